// Package claims is the loaders' register of the identifiers that must be
// unique at a target: the email of a user, most of all. Gigya allows several
// accounts with one email (across sites, social-only accounts, lite and full
// pairs); Auth0 allows one user per email in a database connection. Without
// the register the second account reaches the target, which refuses it or
// merges it into the first, while the books count both as loaded.
//
// The first account that claims a value holds it; a later account with the
// same value (compared case-insensitively) learns which UID holds it and is
// dead-lettered by the loader. The register lives in a KV bucket, one key per
// target, field and value, so it holds across loader instances, restarts,
// sites and runs. Keys and values hold hashes and UIDs, never the email.
package claims

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Claim asks for one identifier of one user.
type Claim struct {
	Field string // the field of the mapped user, e.g. "email"
	Value string // compared case-insensitively, without surrounding spaces
	UID   string // the Gigya UID that wants it
	// Update says the user may have claimed another value of the field
	// before (a change during the cut-over, a replay): that one is then
	// released. A first import skips the look-up.
	Update bool
}

// publisher is the part of JetStream the register writes with.
type publisher interface {
	PublishMsgAsync(msg *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error)
}

// Register is the register of one target. It is safe for concurrent use.
type Register struct {
	kv     jetstream.KeyValue
	pub    publisher
	target string
}

// New returns the register of target in kv. pub is the loader's JetStream,
// whose pending-PubAck limit bounds the claims in flight.
func New(kv jetstream.KeyValue, pub publisher, target string) *Register {
	return &Register{kv: kv, pub: pub, target: target}
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// field is the key token of a field: KV keys allow '.', but as a separator.
func field(f string) string { return strings.ReplaceAll(f, ".", "-") }

// valueKey holds the UID that owns the value.
func (r *Register) valueKey(c Claim) string {
	return r.target + ".v." + field(c.Field) + "." + digest(strings.ToLower(strings.TrimSpace(c.Value)))
}

// uidKey holds the value key a UID owns, so that the value it had before
// an update is released.
func (r *Register) uidKey(c Claim) string {
	return r.target + ".u." + field(c.Field) + "." + digest(c.UID)
}

func (r *Register) subject(key string) string { return "$KV." + r.kv.Bucket() + "." + key }

// Take claims every value of cs at once. holders[i] is the UID that holds
// the value of cs[i] when it is another than cs[i].UID, and "" when cs[i].UID
// holds it now (or held it already: a redelivery, an update). A user whose
// value changed since its last claim releases the old one. The error is
// transient (the bucket is unavailable): nothing can be assumed then.
func (r *Register) Take(ctx context.Context, cs []Claim) (holders []string, err error) {
	holders = make([]string, len(cs))
	futures := make([]jetstream.PubAckFuture, len(cs))
	for i, c := range cs {
		// A create: the server refuses it if the key holds a value already.
		m := nats.NewMsg(r.subject(r.valueKey(c)))
		m.Data = []byte(c.UID)
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
		if futures[i], err = r.pub.PublishMsgAsync(m); err != nil {
			return nil, fmt.Errorf("claim %s in KV bucket %s: %w", c.Field, r.kv.Bucket(), err)
		}
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
			continue
		case err = <-f.Err():
		case <-ctx.Done():
			return nil, fmt.Errorf("claim in KV bucket %s: %w", r.kv.Bucket(), ctx.Err())
		}
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || (apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence && apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return nil, fmt.Errorf("claim %s in KV bucket %s: %w", cs[i].Field, r.kv.Bucket(), err)
		}
		// Held already, or released before (a delete marker): find out.
		if holders[i], err = r.takeOne(ctx, cs[i]); err != nil {
			return nil, err
		}
	}
	if err := r.follow(ctx, cs, holders); err != nil {
		return nil, err
	}
	return holders, nil
}

// takeOne claims c where the fast create failed: it returns the holder when
// it is another UID.
func (r *Register) takeOne(ctx context.Context, c Claim) (string, error) {
	key := r.valueKey(c)
	for range 5 {
		if _, err := r.kv.Create(ctx, key, []byte(c.UID)); err == nil {
			return "", nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return "", fmt.Errorf("claim %s in KV bucket %s: %w", c.Field, r.kv.Bucket(), err)
		}
		e, err := r.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return "", fmt.Errorf("claim %s in KV bucket %s: %w", c.Field, r.kv.Bucket(), err)
		}
		if holder := string(e.Value()); holder != c.UID {
			return holder, nil
		}
		return "", nil
	}
	return "", fmt.Errorf("claim %s in KV bucket %s: the key keeps changing", c.Field, r.kv.Bucket())
}

// follow records, for each value its UID now holds, that the UID holds it,
// and, for an update, releases the value the UID held before if it
// differs: a changed email frees the old one for another account.
func (r *Register) follow(ctx context.Context, cs []Claim, holders []string) error {
	var futures []jetstream.PubAckFuture
	for i, c := range cs {
		if holders[i] != "" || c.Update {
			continue
		}
		m := nats.NewMsg(r.subject(r.uidKey(c)))
		m.Data = []byte(r.valueKey(c))
		f, err := r.pub.PublishMsgAsync(m)
		if err != nil {
			return fmt.Errorf("claims of %s in KV bucket %s: %w", c.UID, r.kv.Bucket(), err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("claims in KV bucket %s: %w", r.kv.Bucket(), err)
		case <-ctx.Done():
			return fmt.Errorf("claims in KV bucket %s: %w", r.kv.Bucket(), ctx.Err())
		}
	}
	for i, c := range cs {
		if holders[i] != "" || !c.Update {
			continue
		}
		now := r.valueKey(c)
		e, err := r.kv.Get(ctx, r.uidKey(c))
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("claims of %s in KV bucket %s: %w", c.UID, r.kv.Bucket(), err)
		case string(e.Value()) == now:
			continue
		default:
			if err := r.releaseKey(ctx, string(e.Value()), c.UID); err != nil {
				return err
			}
		}
		if _, err := r.kv.Put(ctx, r.uidKey(c), []byte(now)); err != nil {
			return fmt.Errorf("claims of %s in KV bucket %s: %w", c.UID, r.kv.Bucket(), err)
		}
	}
	return nil
}

// Release gives back the values of cs that their UIDs hold: the target
// refused those users, so the values are free for another account.
func (r *Register) Release(ctx context.Context, cs []Claim) error {
	for _, c := range cs {
		if err := r.releaseKey(ctx, r.valueKey(c), c.UID); err != nil {
			return err
		}
		if e, err := r.kv.Get(ctx, r.uidKey(c)); err == nil && string(e.Value()) == r.valueKey(c) {
			_ = r.kv.Delete(ctx, r.uidKey(c), jetstream.LastRevision(e.Revision()))
		}
	}
	return nil
}

// releaseKey deletes key if uid still holds it.
func (r *Register) releaseKey(ctx context.Context, key, uid string) error {
	e, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release a claim in KV bucket %s: %w", r.kv.Bucket(), err)
	}
	if string(e.Value()) != uid {
		return nil
	}
	err = r.kv.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("release a claim in KV bucket %s: %w", r.kv.Bucket(), err)
	}
	return nil // ErrKeyExists: someone claimed it meanwhile, which is theirs
}
