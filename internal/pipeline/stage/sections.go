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
		Quiet      time.Duration `yaml:"quiet" doc:"a partial batch is written sooner, once the stream has nothing more for the loader and no record has come for this long: the end of a run or of a burst of changes does not wait for max_wait (0: off)"`
	} `yaml:"batch"`
	Rate     float64                 `yaml:"rate" doc:"users per second at most across this instance's writes, for targets with a rate limit (0: unlimited)"`
	Unique   []string                `yaml:"unique" doc:"fields of the mapped user (dotted paths; an array on the way is read at its first item: Email.Value for LoginRadius) whose value must be unique at the target, compared case-insensitively across sites and runs: the first account holds a value, a later one with the same value is dead-lettered as <field>_conflict (email_conflict for email and Email.Value) naming the first (empty: no check)"`
	Consumer topology.ConsumerConfig `yaml:"consumer"`
}

// LoginSettings is the section of the login service (extractor
// login-service, package internal/login; docs/login-migration.md), which
// moves each user at their login with the password they type. It runs in
// the extractor's binary and logs in against one of the sites of
// extractor.gigya.sites, with that site's credentials.
type LoginSettings struct {
	Site   string `yaml:"site" doc:"the extractor.gigya.sites[] name users log in against; its accounts are published to gigya.accounts.<site> (empty: the only site)"`
	Listen string `yaml:"listen" doc:"address of the login endpoints (host:port)"`
	TLS    struct {
		CertFile     string `yaml:"cert_file" doc:"PEM certificate chain the service presents (required unless plain_http)"`
		KeyFile      string `yaml:"key_file" doc:"PEM private key of cert_file"`
		ClientCAFile string `yaml:"client_ca_file" doc:"PEM CA certificates: when set, callers must present a client certificate they signed (mutual TLS), besides their secret"`
	} `yaml:"tls"`
	PlainHTTP bool `yaml:"plain_http" doc:"serve plain HTTP instead of TLS: only behind a proxy that terminates TLS next to the service (docs/login-migration.md)"`
	// Clients are the callers: each authenticates with its own secret, and
	// is rate-limited on its own.
	Clients []LoginClient `yaml:"clients"`
	Timeout time.Duration `yaml:"timeout" doc:"budget of one request, Gigya and LoginRadius calls included; it must stay below the caller's (an Auth0 script has 20s)"`
	Rate    struct {
		PerClient       float64 `yaml:"per_client" doc:"requests per second one client may make"`
		ClientBurst     int     `yaml:"client_burst" doc:"requests one client may make at once above per_client"`
		PerIdentifier   float64 `yaml:"per_identifier" doc:"Gigya logins per second for one login identifier, so that the service cannot be used to guess passwords (0.05: three a minute)"`
		IdentifierBurst int     `yaml:"identifier_burst" doc:"Gigya logins for one identifier at once above per_identifier"`
	} `yaml:"rate"`
	Gigya struct {
		Rate        float64       `yaml:"rate" doc:"accounts.login calls per second to Gigya"`
		SearchRate  float64       `yaml:"search_rate" doc:"accounts.search calls per second to Gigya (get_user); Gigya's smallest tier allows 10 searches a second for everything"`
		Retries     int           `yaml:"retries" doc:"retries of a transient Gigya error within one request's timeout"`
		CallTimeout time.Duration `yaml:"call_timeout" doc:"timeout of one Gigya call"`
		LookupField string        `yaml:"lookup_field" doc:"account field a get_user or lookup identifier is searched in (an encrypted field: = only)"`
	} `yaml:"gigya"`
	Mapping string `yaml:"mapping" doc:"mapping YAML file; use the transformer's (transformer.mapping) so that users migrated at login are the users the bulk load writes (empty: the embedded configs/auth0.yaml)"`
	// MigratePending lists the pending states (Gigya verified the password,
	// the account is not complete) whose users still migrate.
	MigratePending []string `yaml:"migrate_pending" doc:"pending states whose user migrates anyway, since Gigya verified the password: pending_verification, pending_registration, pending_password_change, pending_tfa (the others are refused as pending)"`
	Auth0          struct {
		Omit []string `yaml:"omit" doc:"top-level fields of the mapped user that the Auth0 login profile leaves out (the password fields of a bulk import)"`
	} `yaml:"auth0"`
	LoginRadius LoginRadiusLoginSettings `yaml:"loginradius"`
}

// LoginClient is one caller of the login service (login.clients[]).
type LoginClient struct {
	Name   string `yaml:"name" doc:"the caller's name, in metrics and logs (auth0, loginradius-orchestration, ...)"`
	Secret string `yaml:"secret" doc:"the secret the caller sends as Authorization: Bearer <secret>; use ${VAR}, never a literal"`
}

// LoginRadiusLoginSettings configure the LoginRadius flows of the login
// service (login.loginradius): the API mode, which creates the user, and
// the endpoint of the Orchestration External Identity Lookup node.
type LoginRadiusLoginSettings struct {
	BaseURL   string `yaml:"base_url" doc:"LoginRadius API base URL (empty: https://api.loginradius.com)"`
	AllowHTTP bool   `yaml:"allow_http" doc:"permit a plain http:// base_url (only for a local simulator)"`
	APIKey    string `yaml:"api_key" doc:"the LoginRadius API key"`
	APISecret string `yaml:"api_secret" doc:"the LoginRadius API secret; use ${VAR}, never a literal"`
	// Omit lists the fields of the mapped profile that Account Create must
	// not get: the bulk mapping's password hash.
	Omit             []string `yaml:"omit" doc:"top-level fields of the mapped user that Account Create and the lookup answer leave out (the bulk mapping's password hash)"`
	PolicyErrorCodes []int    `yaml:"policy_error_codes" doc:"LoginRadius ErrorCodes of an Account Create refused for its password (the password policy): the user is created without it and a password reset is started"`
	ResetPasswordURL string   `yaml:"reset_password_url" doc:"page of the reset link in the password-reset email LoginRadius sends (resetpasswordurl); required in the API mode while policy_error_codes lists a code"`
	ResetTemplate    string   `yaml:"reset_email_template" doc:"LoginRadius email template of that email (empty: the default)"`
	Lookup           struct {
		IdentifierField string `yaml:"identifier_field" doc:"field of the External Identity Lookup node's JSON request holding the identifier"`
		PasswordField   string `yaml:"password_field" doc:"field of that request holding the password the user typed"`
		ProfileField    string `yaml:"profile_field" doc:"field of the answer holding the profile (empty: the profile is the answer)"`
	} `yaml:"lookup"`
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
	// UnreadLogin is the login service's section in another binary's file.
	UnreadLogin = config.Unread[LoginSettings]
)
