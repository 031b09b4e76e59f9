package transform

import (
	"context"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/nats-io/nats.go/jetstream"
)

// produced is what the streams already hold for a replay's target when the
// replay starts: the digest of the newest mapped message of each (user,
// version, element), and the (user, version, mapping) of each transform
// dead letter. A replay publishes only what differs from it. The streams'
// duplicate windows forget a Nats-Msg-Id after minutes; the streams keep the
// messages as long as the raw accounts they come from (both have the same
// max_age by default), so an unchanged mapping replayed at any time
// republishes nothing and a failure is recorded once.
//
// Keys and digests are 64-bit hashes with a seed of this process: a few tens
// of bytes per user, for the replay's lifetime only.
type produced struct {
	seed   maphash.Seed
	mu     sync.Mutex
	mapped map[uint64]uint64   // key(uid, lastUpdated, element) → digest of the data
	failed map[uint64]struct{} // key(uid, lastUpdated, mapping version)
	// stale are the dead letters of earlier mapping versions, by
	// key(uid, lastUpdated): the replay's outcome for the user takes their
	// place, so that the dead-letter stream keeps one failure per user and
	// version, the current mapping's.
	stale map[uint64][]uint64
}

func newProduced() *produced {
	return &produced{seed: maphash.MakeSeed(), mapped: map[uint64]uint64{}, failed: map[uint64]struct{}{}, stale: map[uint64][]uint64{}}
}

func (p *produced) key(parts ...string) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	for _, s := range parts {
		h.WriteString(s)
		h.WriteByte(0)
	}
	return h.Sum64()
}

func (p *produced) digest(data []byte) uint64 { return maphash.Bytes(p.seed, data) }

// element is the explode index a mapped message id ends with ("#2"), or "".
func element(msgID string) string {
	_, i, _ := strings.Cut(msgID, "#")
	return i
}

// loadProduced reads, for target, the mapped messages and the transform
// dead letters the streams hold (only those of uids, unless nil); version
// is the replay's mapping version.
func loadProduced(ctx context.Context, js jetstream.JetStream, top *topology.Topology, target, version string, uids map[string]struct{}) (*produced, error) {
	p := newProduced()
	selected := func(uid string) bool {
		_, ok := uids[uid]
		return uids == nil || ok
	}
	err := consume.Scan(ctx, js, top.Mapped, consume.ScanOptions{Filter: message.MappedSubject(target)}, func(m jetstream.Msg, _ uint64) bool {
		h := m.Headers()
		if uid, lu := h.Get(message.HdrUID), h.Get(message.HdrLastUpdated); uid != "" && lu != "" && selected(uid) {
			p.mapped[p.key(uid, lu, element(h.Get(message.HdrMsgID)))] = p.digest(m.Data())
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read the mapped users of %s: %w", target, err)
	}
	err = consume.Scan(ctx, js, top.DeadLetter, consume.ScanOptions{Filter: message.DeadLetterSubject(message.StageTransform, target), HeadersOnly: true},
		func(m jetstream.Msg, seq uint64) bool {
			h := m.Headers()
			uid, lu, v := h.Get(message.HdrUID), h.Get(message.HdrLastUpdated), h.Get(message.HdrMappingVersion)
			switch {
			case uid == "" || lu == "" || v == "" || !selected(uid):
			case v == version:
				p.failed[p.key(uid, lu, v)] = struct{}{}
			default:
				k := p.key(uid, lu)
				p.stale[k] = append(p.stale[k], seq)
			}
			return true
		})
	if err != nil {
		return nil, fmt.Errorf("read the dead letters of %s: %w", target, err)
	}
	return p, nil
}

// claim is one entry a replay is about to publish; undo puts back what was
// there if the publication fails, so that the input's retry publishes again.
type claim struct {
	failure bool
	key     uint64
	had     bool
	prev    uint64
}

// claimMapped reports whether data differs from the newest message held
// for the key, and if so records it as held, before its publication, so
// that a second copy of the same input (a redriven one) is not sent too.
func (p *produced) claimMapped(key, digest uint64) (claim, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev, had := p.mapped[key]
	if had && prev == digest {
		return claim{}, false
	}
	p.mapped[key] = digest
	return claim{key: key, had: had, prev: prev}, true
}

// claimFailure reports whether the failure of key is new, and if so records
// it.
func (p *produced) claimFailure(key uint64) (claim, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, had := p.failed[key]; had {
		return claim{}, false
	}
	p.failed[key] = struct{}{}
	return claim{failure: true, key: key}, true
}

func (p *produced) undo(cs []claim) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		switch {
		case c.failure:
			delete(p.failed, c.key)
		case c.had:
			p.mapped[c.key] = c.prev
		default:
			delete(p.mapped, c.key)
		}
	}
}

// takeStale returns the dead letters of earlier mappings of (uid,
// lastUpdated) and forgets them: the caller deletes them once the user's
// new outcome is stored.
func (p *produced) takeStale(uid, lastUpdated string) []uint64 {
	k := p.key(uid, lastUpdated)
	p.mu.Lock()
	defer p.mu.Unlock()
	seqs := p.stale[k]
	delete(p.stale, k)
	return seqs
}
