// Package versions is the loaders' register of the newest version written of
// each user that came as an update or a replay. Redeliveries after a crash,
// a restart of the server, or several transformers publishing in parallel can
// hand a loader an older version of a user after a newer one was written;
// without the register a target that keeps the last write (an upsert, a
// JSON-lines file) would end with the older content.
//
// Only updates and replays are recorded: the first import of a user is the
// oldest version there is, so a bulk load of millions costs neither memory
// nor a write per user. The register lives in a KV bucket, so a restarted
// loader and the other instances of the same loader see it; each instance
// keeps it in memory through a watch, and checks cost a map lookup.
//
// The register also marks the users migrated at login (the login service
// moved them to the target with the password they typed,
// docs/login-migration.md): no version of such a user is ever written
// again, whatever its timestamp. The mark has a key of its own,
// <loader>.login.<base64url key>, so that no version recorded later (by an
// instance that has not seen the mark yet) can overwrite it.
package versions

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Entry is one user's version that a sink has stored.
type Entry struct {
	Key     string // the user: its UID, plus "#i" for the i-th output of an exploded record
	Version int64  // Gigya lastUpdatedTimestamp (ms since the epoch)
	// AtLogin records that the user was migrated at login: the target
	// holds it, and no later version may be written over it.
	AtLogin bool
}

// loginToken starts the key of a user migrated at login, after the loader's
// prefix.
const loginToken = "login."

// publisher is the part of JetStream the register writes with.
type publisher interface {
	PublishMsgAsync(msg *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error)
}

// Register is one loader's view of the bucket. It is safe for concurrent
// use.
type Register struct {
	bucket, prefix string
	pub            publisher
	log            *slog.Logger
	seed           maphash.Seed

	mu     sync.RWMutex
	newest map[uint64]int64 // maphash of the key: 16 bytes a user, whatever the UID's length
	login  map[uint64]bool  // the users migrated at login

	stop func()
	done chan struct{}
}

// Open loads the versions recorded for loader (the loader's name) from kv
// and keeps them current until Close. pub publishes the records; it is the
// loader's JetStream, whose pending-PubAck limit bounds them.
func Open(ctx context.Context, kv jetstream.KeyValue, pub publisher, loader string, log *slog.Logger) (*Register, error) {
	r := &Register{
		bucket: kv.Bucket(), prefix: loader + ".", pub: pub, log: log, seed: maphash.MakeSeed(),
		newest: make(map[uint64]int64), login: make(map[uint64]bool), done: make(chan struct{}),
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w, err := kv.Watch(wctx, r.prefix+">", jetstream.IgnoreDeletes())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch %s in KV bucket %s: %w", r.prefix+">", r.bucket, err)
	}
	r.stop = func() { cancel(); _ = w.Stop() }
	loaded := make(chan struct{})
	go r.follow(w, loaded)
	select {
	case <-loaded:
	case <-r.done:
		cancel()
		return nil, fmt.Errorf("watch %s in KV bucket %s ended before it had loaded", r.prefix+">", r.bucket)
	case <-ctx.Done():
		r.stop()
		return nil, fmt.Errorf("load the versions in KV bucket %s: %w", r.bucket, ctx.Err())
	}
	log.Info("version register loaded", "bucket", r.bucket, "users", r.Len())
	return r, nil
}

// follow applies the bucket's entries: first the current ones (a nil entry
// ends them), then every later change, from this instance or another.
func (r *Register) follow(w jetstream.KeyWatcher, loaded chan<- struct{}) {
	defer close(r.done)
	for e := range w.Updates() {
		if e == nil {
			close(loaded)
			continue
		}
		encoded, atLogin := strings.CutPrefix(strings.TrimPrefix(e.Key(), r.prefix), loginToken)
		key, err := base64.RawURLEncoding.DecodeString(encoded)
		v, perr := strconv.ParseInt(string(e.Value()), 10, 64)
		if err != nil || perr != nil {
			r.log.Warn("ignoring a malformed entry of the version register", "bucket", r.bucket, "key", e.Key())
			continue
		}
		r.set(string(key), v, atLogin)
	}
}

// set raises the user's newest version to v, and marks it migrated at
// login when atLogin; it reports false if there is nothing to record: a
// newer version is known, or (for a version that is not a login's) the user
// is marked already, which no later version undoes.
func (r *Register) set(key string, v int64, atLogin bool) bool {
	h := maphash.String(r.seed, key)
	r.mu.Lock()
	defer r.mu.Unlock()
	if atLogin {
		r.login[h] = true
		r.newest[h] = max(r.newest[h], v)
		return true
	}
	if v < r.newest[h] || r.login[h] {
		return false
	}
	r.newest[h] = v
	return true
}

// AtLogin reports whether the user key was migrated at login: then no
// version of it may be written.
func (r *Register) AtLogin(key string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.login[maphash.String(r.seed, key)]
}

// Stale reports whether a newer version than version of the user key was
// written. A version of 0 (unknown) is never stale; an equal one is not
// either: it is the same version again (a redelivery, a replay).
func (r *Register) Stale(key string, version int64) bool {
	if version <= 0 {
		return false
	}
	r.mu.RLock()
	newest := r.newest[maphash.String(r.seed, key)]
	r.mu.RUnlock()
	return newest > version
}

// Len is the number of users recorded.
func (r *Register) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.newest)
}

// Wrote records versions a sink stored: at once for this instance, and in
// the bucket for restarts and the other instances. It returns when the
// server has stored them all, or with the first error.
func (r *Register) Wrote(ctx context.Context, entries []Entry) error {
	futures := make([]jetstream.PubAckFuture, 0, len(entries))
	for _, e := range entries {
		// An older version than one known (another instance wrote a newer
		// one meanwhile) is not recorded: the bucket keeps the last put,
		// and a restart must not learn the older one.
		if (e.Version <= 0 && !e.AtLogin) || !r.set(e.Key, e.Version, e.AtLogin) {
			continue
		}
		key := r.prefix + base64.RawURLEncoding.EncodeToString([]byte(e.Key))
		if e.AtLogin {
			key = r.prefix + loginToken + base64.RawURLEncoding.EncodeToString([]byte(e.Key))
		}
		m := nats.NewMsg("$KV." + r.bucket + "." + key)
		m.Data = strconv.AppendInt(nil, max(e.Version, 0), 10)
		f, err := r.pub.PublishMsgAsync(m)
		if err != nil {
			return fmt.Errorf("record version of %s in KV bucket %s: %w", e.Key, r.bucket, err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("record a version in KV bucket %s: %w", r.bucket, err)
		case <-ctx.Done():
			return fmt.Errorf("record versions in KV bucket %s: %w", r.bucket, ctx.Err())
		}
	}
	return nil
}

// Close stops following the bucket.
func (r *Register) Close() {
	r.stop()
	<-r.done
}
