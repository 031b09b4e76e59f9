package load

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/nats-io/nats.go/jetstream"
)

// sinkState is the [sink.State] of one loader: its keys in the state bucket,
// under sink.<loader name>., so that every instance of the loader (and the
// next one after a crash) sees the same entries and no other loader's.
type sinkState struct {
	kv     jetstream.KeyValue
	prefix string
}

var kvToken = regexp.MustCompile(`^[-_=a-zA-Z0-9]+$`)

func newSinkState(kv jetstream.KeyValue, loader string) *sinkState {
	name := loader
	if !kvToken.MatchString(name) {
		// A loader name is any subject token; a KV key is not.
		name = "x" + hex.EncodeToString([]byte(loader))
	}
	return &sinkState{kv: kv, prefix: "sink." + name + "."}
}

func (s *sinkState) key(k string) (string, error) {
	if !kvToken.MatchString(k) {
		return "", fmt.Errorf("sink state key %q: only letters, digits, '-', '_' and '='", k)
	}
	return s.prefix + k, nil
}

// List returns the loader's entries.
func (s *sinkState) List(ctx context.Context) ([]sink.StateEntry, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, s.prefix+">")
	if err != nil {
		return nil, fmt.Errorf("sink state: listing %s*: %w", s.prefix, err)
	}
	var out []sink.StateEntry
	for key := range lister.Keys() {
		e, err := s.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted between the listing and the read
		}
		if err != nil {
			return nil, fmt.Errorf("sink state: reading %s: %w", key, err)
		}
		out = append(out, sink.StateEntry{Key: strings.TrimPrefix(key, s.prefix), Value: e.Value(), Revision: e.Revision()})
	}
	return out, nil
}

// Put stores value under key.
func (s *sinkState) Put(ctx context.Context, key string, value []byte) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, k, value); err != nil {
		return fmt.Errorf("sink state: writing %s: %w", k, err)
	}
	return nil
}

// Delete removes key, if revision is not 0 only when it is still the key's
// revision.
func (s *sinkState) Delete(ctx context.Context, key string, revision uint64) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	var opts []jetstream.KVDeleteOpt
	if revision != 0 {
		opts = append(opts, jetstream.LastRevision(revision))
	}
	err = s.kv.Delete(ctx, k, opts...)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return nil // put again since: another instance uses it
	}
	if err != nil {
		return fmt.Errorf("sink state: deleting %s: %w", k, err)
	}
	return nil
}
