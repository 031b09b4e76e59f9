package stage

import (
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"go.yaml.in/yaml/v3"
)

// The sections of the three stages are declared here, beside the shared
// ones, because one configuration file serves all three binaries and each
// binary decodes the whole file strictly: a typo in the loader's section
// must stop the extractor too, which it can only find with the loader's
// keys at hand. The stages never import each other, so their sections live
// in the package they all stand on; each stage keeps its defaults and its
// validation, and names its section by an alias (extract.Settings,
// transform.Settings, load.Settings).

// ExtractorSettings is the extractor section.
type ExtractorSettings struct {
	Site   string `yaml:"site" doc:"Gigya site name: the last token of gigya.accounts.<site>"`
	Source struct {
		Type  string   `yaml:"type" doc:"source kind: file (export files) or gigya-api (accounts.search)"`
		Paths []string `yaml:"paths" doc:"export files or directories (JSON array, JSON lines, saved accounts.search responses; gzip ok); command-line arguments replace them"`
	} `yaml:"source"`
	MaxPending int `yaml:"max_pending" doc:"published messages awaiting their PubAck; bounds memory and in-flight data"`
	// CheckpointEvery is how many records pass between checkpoint writes.
	CheckpointEvery int `yaml:"checkpoint_every" doc:"records between two checkpoint writes (a restart re-reads at most this many)"`
	// Gigya configures the gigya-api source.
	Gigya GigyaSettings `yaml:"gigya"`
}

// GigyaSettings configure the accounts.search source (extractor.gigya).
type GigyaSettings struct {
	Sites        []SiteSettings `yaml:"sites"`
	PageSize     int            `yaml:"page_size" doc:"accounts per search page (Gigya documents at most 1000)"`
	Fields       []string       `yaml:"fields" doc:"fields to SELECT (empty: everything a migration needs: profile, data, loginIDs, emails, identities, password, preferences, subscriptions, timestamps, flags)"`
	Where        string         `yaml:"where" doc:"extra WHERE condition of the search, e.g. isRegistered = true"`
	LiteAccounts bool           `yaml:"lite_accounts" doc:"also extract lite accounts (accountTypes full,lite)"`
	Rate         float64        `yaml:"rate" doc:"searches per second per site (Gigya's smallest tier allows 10)"`
	Timeout      time.Duration  `yaml:"timeout" doc:"timeout of one Gigya call"`
	Retries      int            `yaml:"retries" doc:"attempts of one call on transient errors (backoff up to 10s each: 20 rides out about 3 minutes of Gigya trouble)"`
	Overlap      time.Duration  `yaml:"overlap" doc:"an incremental run re-reads this much before the last checkpoint (search lags writes); unchanged accounts are skipped"`
	CursorIdle   time.Duration  `yaml:"cursor_idle" doc:"a cursor unused this long is not reused: the search restarts from the checkpoint (Gigya expires cursors after 5 minutes)"`
	FollowEvery  time.Duration  `yaml:"follow_every" doc:"with -follow, the pause between two incremental searches"`
}

// SiteSettings are one Gigya site's credentials (extractor.gigya.sites[]).
type SiteSettings struct {
	Name           string `yaml:"name" doc:"site name: the last token of gigya.accounts.<name>"`
	APIKey         string `yaml:"api_key" doc:"the site's API key"`
	UserKey        string `yaml:"user_key" doc:"application key (with secret, or with private_key_file for bearer JWTs)"`
	Secret         string `yaml:"secret" doc:"partner or application secret; use ${VAR}, never a literal"`
	PrivateKeyFile string `yaml:"private_key_file" doc:"PEM RSA key of the application: bearer JWT authentication"`
	DataCenter     string `yaml:"data_center" default:"us1" doc:"us1, eu1, au1, ru1, cn1 or global"`
	BaseURL        string `yaml:"base_url" doc:"overrides the data center's URL (a simulator)"`
	AllowHTTP      bool   `yaml:"allow_http" doc:"permit a plain http:// base_url (only for a local simulator)"`
}

// TransformerSettings is the transformer section.
type TransformerSettings struct {
	Mapping    string                  `yaml:"mapping" doc:"mapping YAML file (empty: the embedded configs/auth0.yaml)"`
	Sites      []string                `yaml:"sites" doc:"sites to transform (empty: every site, gigya.accounts.>)"`
	Workers    int                     `yaml:"workers" doc:"mapping goroutines per instance (0: GOMAXPROCS)"`
	MaxPending int                     `yaml:"max_pending" doc:"mapped messages awaiting their PubAck per instance"`
	Consumer   topology.ConsumerConfig `yaml:"consumer"`
}

// LoaderSettings is the loader section.
type LoaderSettings struct {
	Name   string `yaml:"name" doc:"loader name: its durable consumer is loader-<name> (empty: the sink type)"`
	Target string `yaml:"target" doc:"mapping target to load: reads users.mapped.<target>"`
	Sink   struct {
		Type string `yaml:"type" doc:"sink: auth0-file, auth0-api, loginradius-bulk, loginradius-api or jsonl (or one a custom build registers)"`
		// Options belong to the sink, which decodes them strictly itself: a
		// binary other than the loader cannot know a custom build's sinks.
		Options yaml.Node `yaml:"options"`
	} `yaml:"sink"`
	Batch struct {
		MaxRecords int           `yaml:"max_records" doc:"records per batch at most"`
		MaxBytes   int           `yaml:"max_bytes" doc:"bytes per batch at most (a sink may lower it: auth0-file fills one file per batch)"`
		MaxWait    time.Duration `yaml:"max_wait" doc:"how long a partial batch waits for more records"`
	} `yaml:"batch"`
	Rate     float64                 `yaml:"rate" doc:"users per second at most across this instance's writes, for targets with a rate limit (0: unlimited)"`
	Unique   []string                `yaml:"unique" doc:"fields of the mapped user (dotted paths; an array on the way is read at its first item: Email.Value for LoginRadius) whose value must be unique at the target, compared case-insensitively across sites and runs: the first account holds a value, a later one with the same value is dead-lettered as <field>_conflict (email_conflict for email and Email.Value) naming the first (empty: no check)"`
	Consumer topology.ConsumerConfig `yaml:"consumer"`
}

// The sections as the binaries that do not own them declare them: decoded
// strictly, then dropped.
type (
	// UnreadExtractor is the extractor section in another binary's file.
	UnreadExtractor = config.Unread[ExtractorSettings]
	// UnreadTransformer is the transformer section in another binary's file.
	UnreadTransformer = config.Unread[TransformerSettings]
	// UnreadLoader is the loader section in another binary's file.
	UnreadLoader = config.Unread[LoaderSettings]
)
