// Package topology creates or updates, idempotently, the JetStream streams and
// the KV buckets the pipeline uses, and builds the consumer configurations of
// its stages. Every binary calls [Ensure] at start-up with the same
// configuration, so whichever starts first creates what the others need.
package topology

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/nats-io/nats.go/jetstream"
)

// Subjects of the pipeline. They are the contract between the binaries and
// are not configurable; stream names are.
const (
	RawSubjects        = "gigya.accounts.>"
	MappedSubjects     = "users.mapped.>"
	DeadLetterSubjects = "etl.deadletter.>"
)

// StreamConfig holds the configurable limits of one stream.
type StreamConfig struct {
	Name       string        `yaml:"name" doc:"stream name"`
	MaxAge     time.Duration `yaml:"max_age" doc:"how long messages are kept (0: forever); it is the replay horizon"`
	MaxBytes   int64         `yaml:"max_bytes" doc:"disk cap in bytes (-1: unlimited); the oldest messages are discarded beyond it"`
	Duplicates time.Duration `yaml:"duplicates" doc:"window in which a repeated Nats-Msg-Id is dropped; must not exceed max_age"`
}

// Placement says which servers of a JetStream cluster (or super-cluster)
// hold the replicas; the server picks among those that match.
type Placement struct {
	Cluster string   `yaml:"cluster" doc:"name of the NATS cluster to place every stream and the KV bucket in (empty: the one the client is connected to)"`
	Tags    []string `yaml:"tags" doc:"server tags every replica's server must have, e.g. [ssd, az:eu-1] (empty: any server)"`
}

// jetstream returns the placement in the server's form; nil when none is
// set, so that the stream config stays what an unplaced stream reports.
func (p Placement) jetstream() *jetstream.Placement {
	if p.Cluster == "" && len(p.Tags) == 0 {
		return nil
	}
	return &jetstream.Placement{Cluster: p.Cluster, Tags: p.Tags}
}

// Config is the whole topology.
type Config struct {
	Replicas   int          `yaml:"replicas" doc:"replicas of every stream and of the KV bucket (1 on one server, 3 in a cluster)"`
	Placement  Placement    `yaml:"placement"`
	Raw        StreamConfig `yaml:"raw"`
	Mapped     StreamConfig `yaml:"mapped"`
	DeadLetter StreamConfig `yaml:"deadletter"`
	State      struct {
		Bucket  string `yaml:"bucket" doc:"KV bucket of extractor checkpoints and run records, instance heartbeats, sinks' unfinished writes"`
		History int    `yaml:"history" doc:"revisions kept per key"`
	} `yaml:"state"`
	Versions struct {
		Bucket string `yaml:"bucket" doc:"KV bucket where loaders record the newest version written of each user that arrived as an update or replay, so that an older version delivered later is not written over it"`
	} `yaml:"versions"`
	Claims struct {
		Bucket string `yaml:"bucket" doc:"KV bucket where loaders claim the values that must be unique at a target (loader.unique: the email), first account first, so that a second account with the same email is dead-lettered instead of counted as loaded"`
	} `yaml:"claims"`
}

// Default returns the topology of docs/architecture.md.
func Default() Config {
	week := 7 * 24 * time.Hour
	c := Config{
		Replicas:   1,
		Raw:        StreamConfig{Name: "GIGYA_ACCOUNTS", MaxAge: week, MaxBytes: -1, Duplicates: 2 * time.Minute},
		Mapped:     StreamConfig{Name: "USERS_MAPPED", MaxAge: week, MaxBytes: -1, Duplicates: 2 * time.Minute},
		DeadLetter: StreamConfig{Name: "ETL_DEADLETTER", MaxAge: 0, MaxBytes: -1, Duplicates: 2 * time.Minute},
	}
	c.State.Bucket = "etl_state"
	c.State.History = 5
	c.Versions.Bucket = "etl_versions"
	c.Claims.Bucket = "etl_claims"
	return c
}

// Validate reports every problem, naming keys relative to the section.
func (c Config) Validate() error {
	var p config.Problems
	p.Check(c.Replicas >= 1 && c.Replicas <= 5, "replicas", "must be between 1 and 5")
	for _, s := range []struct {
		key string
		cfg StreamConfig
	}{{"raw", c.Raw}, {"mapped", c.Mapped}, {"deadletter", c.DeadLetter}} {
		p.Check(config.SubjectToken(s.cfg.Name) && !containsAny(s.cfg.Name, "/\\"), s.key+".name", "must be a non-empty name without '.', '*', '>', '/', '\\' or spaces")
		p.Check(s.cfg.MaxAge >= 0, s.key+".max_age", "must not be negative")
		p.Check(s.cfg.MaxBytes == -1 || s.cfg.MaxBytes > 0, s.key+".max_bytes", "must be -1 (unlimited) or positive")
		p.Check(s.cfg.Duplicates >= 100*time.Millisecond, s.key+".duplicates", "must be at least 100ms")
		p.Check(s.cfg.MaxAge == 0 || s.cfg.Duplicates <= s.cfg.MaxAge, s.key+".duplicates", "must not exceed max_age")
	}
	p.Check(c.Raw.Name != c.Mapped.Name && c.Raw.Name != c.DeadLetter.Name && c.Mapped.Name != c.DeadLetter.Name, "raw.name/mapped.name/deadletter.name", "must differ")
	for i, tag := range c.Placement.Tags {
		p.Check(strings.TrimSpace(tag) != "", fmt.Sprintf("placement.tags[%d]", i), "must not be empty")
	}
	p.Check(c.State.Bucket != "", "state.bucket", "is required")
	p.Check(c.State.History >= 1 && c.State.History <= 64, "state.history", "must be between 1 and 64")
	p.Check(c.Versions.Bucket != "" && c.Versions.Bucket != c.State.Bucket, "versions.bucket", "is required and must differ from state.bucket")
	p.Check(c.Claims.Bucket != "" && c.Claims.Bucket != c.State.Bucket && c.Claims.Bucket != c.Versions.Bucket, "claims.bucket", "is required and must differ from state.bucket and versions.bucket")
	return p.Err()
}

func containsAny(s, chars string) bool {
	for _, r := range chars {
		for _, c := range s {
			if r == c {
				return true
			}
		}
	}
	return false
}

// errCodeSubjectOverlap is the server's JSStreamSubjectOverlapErr, which
// nats.go does not export.
const errCodeSubjectOverlap jetstream.ErrorCode = 10065

// Topology is what Ensure created or found.
type Topology struct {
	Raw, Mapped, DeadLetter jetstream.Stream
	State                   jetstream.KeyValue
	Versions                jetstream.KeyValue
	Claims                  jetstream.KeyValue
}

// Ensure creates the streams and the KV buckets, or updates them to match c.
// A server-side conflict (another stream already owns the subjects, a limit
// the server refuses) is returned with the stream's name and what to check.
func Ensure(ctx context.Context, js jetstream.JetStream, c Config) (*Topology, error) {
	var t Topology
	var err error
	if t.Raw, err = ensureStream(ctx, js, c.Raw, RawSubjects, c.Replicas, c.Placement); err != nil {
		return nil, err
	}
	if t.Mapped, err = ensureStream(ctx, js, c.Mapped, MappedSubjects, c.Replicas, c.Placement); err != nil {
		return nil, err
	}
	if t.DeadLetter, err = ensureStream(ctx, js, c.DeadLetter, DeadLetterSubjects, c.Replicas, c.Placement); err != nil {
		return nil, err
	}
	t.State, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      c.State.Bucket,
		Description: "gigya-migrate extractor checkpoints and run records",
		History:     uint8(c.State.History),
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		Placement:   c.Placement.jetstream(),
	})
	if err != nil {
		return nil, fmt.Errorf("KV bucket %s: %w", c.State.Bucket, err)
	}
	t.Versions, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      c.Versions.Bucket,
		Description: "gigya-migrate: newest version written per loader and user, for updates and replays",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		Placement:   c.Placement.jetstream(),
	})
	if err != nil {
		return nil, fmt.Errorf("KV bucket %s: %w", c.Versions.Bucket, err)
	}
	t.Claims, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      c.Claims.Bucket,
		Description: "gigya-migrate: the Gigya UID that holds each value that must be unique at a target (the email)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		Placement:   c.Placement.jetstream(),
	})
	if err != nil {
		return nil, fmt.Errorf("KV bucket %s: %w", c.Claims.Bucket, err)
	}
	return &t, nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, s StreamConfig, subjects string, replicas int, place Placement) (jetstream.Stream, error) {
	cfg := jetstream.StreamConfig{
		Name:       s.Name,
		Subjects:   []string{subjects},
		Retention:  jetstream.LimitsPolicy, // replay needs Limits: the others delete on ack
		Storage:    jetstream.FileStorage,
		Discard:    jetstream.DiscardOld,
		MaxAge:     s.MaxAge,
		MaxBytes:   s.MaxBytes,
		MaxMsgs:    -1,
		Duplicates: s.Duplicates,
		Replicas:   replicas,
		Placement:  place.jetstream(),
	}
	st, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		hint := ""
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeSubjectOverlap {
			hint = fmt.Sprintf(": another stream already captures %s; point streams.*.name at it or remove it", subjects)
		}
		return nil, fmt.Errorf("stream %s (%s): %w%s", s.Name, subjects, err, hint)
	}
	return st, nil
}

// ConsumerConfig holds the tunables of a stage's durable pull consumer.
type ConsumerConfig struct {
	AckWait       time.Duration   `yaml:"ack_wait" doc:"time the server waits for an ack before redelivering"`
	MaxDeliver    int             `yaml:"max_deliver" doc:"deliveries before a message is dead-lettered"`
	MaxAckPending int             `yaml:"max_ack_pending" doc:"messages in flight (delivered, not yet acked) across all instances; the back-pressure bound"`
	Backoff       []time.Duration `yaml:"backoff" doc:"delays of successive retries after a transient error; the last repeats"`
}

// Validate reports every problem, naming keys relative to the section.
func (c ConsumerConfig) Validate() error {
	var p config.Problems
	p.Check(c.AckWait >= time.Second, "ack_wait", "must be at least 1s")
	p.Check(c.MaxDeliver >= 1, "max_deliver", "must be at least 1")
	p.Check(c.MaxAckPending >= 1, "max_ack_pending", "must be at least 1")
	p.Check(len(c.Backoff) > 0, "backoff", "needs at least one delay")
	for _, d := range c.Backoff {
		p.Check(d > 0, "backoff", "delays must be positive")
	}
	return p.Err()
}

// Delay returns the pause before retrying a message delivered n times.
func (c ConsumerConfig) Delay(delivered uint64) time.Duration {
	if len(c.Backoff) == 0 {
		return time.Second
	}
	i := int(min(delivered, uint64(len(c.Backoff)))) - 1
	return c.Backoff[max(i, 0)]
}

// Durable creates or updates the durable pull consumer durable on stream,
// filtered to the given subjects. Every instance of a stage calls it with the
// same arguments and shares the consumer: the server spreads the messages.
func (c ConsumerConfig) Durable(ctx context.Context, stream jetstream.Stream, durable string, filters ...string) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       durable,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		MaxDeliver:    c.MaxDeliver,
		MaxAckPending: c.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if len(filters) == 1 {
		cfg.FilterSubject = filters[0]
	} else {
		cfg.FilterSubjects = filters
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %v: %w", durable, filters, err)
	}
	return cons, nil
}
