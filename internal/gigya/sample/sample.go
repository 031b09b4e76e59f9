package sample

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/segmentio/encoding/json"
	"golang.org/x/crypto/bcrypt"
)

const (
	// defaultPBKDF2Rounds is the iteration count of Gigya's native
	// pbkdf2_sha512 hashes as seen in real exports (docs/apis/gigya.md,
	// "Password object").
	defaultPBKDF2Rounds = 10000
	// defaultBcryptCost is what most bcrypt libraries default to, and what
	// Auth0 expects of imported bcrypt hashes.
	defaultBcryptCost = 10
)

// Options tune cost-heavy parts; the zero value means production-like defaults.
//
// Options never change which users are generated or their passwords, only
// the work factors written into hashSettings and therefore the hash values.
type Options struct {
	// PBKDF2Rounds is the iteration count of every pbkdf2* hash.
	// Zero or negative means 10000 (Gigya native). Tests pass small values for speed.
	PBKDF2Rounds int
	// BcryptCost is the log2 work factor of bcrypt hashes. Zero or negative
	// means 10; values outside bcrypt's range 4..31 are clamped to it.
	// Tests pass bcrypt.MinCost.
	BcryptCost int
}

// Quick returns cheap work factors: PBKDF2 with 10 rounds, bcrypt at its
// minimum cost (4). The users, their passwords and the hash algorithms are
// those of the zero Options (production costs), and every hash is as real
// and verifies with the same password; only making one takes microseconds
// instead of milliseconds, which turns 100,000 accounts from minutes into
// seconds. A real export carries Gigya's costs; a quick sample is for trying
// the pipeline, whose speed does not depend on them (no stage verifies a
// hash).
func Quick() Options { return Options{PBKDF2Rounds: 10, BcryptCost: bcrypt.MinCost} }

func (o Options) withDefaults() Options {
	if o.PBKDF2Rounds <= 0 {
		o.PBKDF2Rounds = defaultPBKDF2Rounds
	}
	switch {
	case o.BcryptCost <= 0:
		o.BcryptCost = defaultBcryptCost
	case o.BcryptCost < bcrypt.MinCost:
		o.BcryptCost = bcrypt.MinCost
	case o.BcryptCost > bcrypt.MaxCost:
		o.BcryptCost = bcrypt.MaxCost
	}
	return o
}

// Kinds of generated accounts, as reported in [Account.Kind].
const (
	// KindSite is an email + password user whose only identity is "site".
	KindSite = "site"
	// KindSocial is a social-only user: no password, one social identity,
	// and sometimes no email at all.
	KindSocial = "social"
	// KindMulti is a site user with one to three linked social identities.
	KindMulti = "multi"
	// KindLite is a lite account (e.g. a newsletter subscriber): an email
	// and little else, not registered, no password, no identities.
	KindLite = "lite"
)

// Account is one generated Gigya account.
type Account struct {
	// UID is the account's Gigya UID (32 lowercase hex characters), unique
	// within one generator's sequence.
	UID string
	// Kind is one of [KindSite], [KindSocial], [KindMulti], [KindLite].
	Kind string
	// Email is profile.email, "" when the account has none.
	Email string
	// Password is the plaintext password the hash was made from; "" when
	// the account has no password or when its plaintext is unknown
	// (Verifiable false).
	Password string
	// Algorithm is password.hashSettings.algorithm, "" when none.
	Algorithm string
	// Verifiable reports whether Password is the plaintext behind
	// password.hash. It is false for accounts without a password and for
	// hashes the generator could not make verifiable (md5_crypt, custom).
	Verifiable bool
	// JSON is the account object as Gigya returns it (compact JSON, one object).
	JSON []byte
}

// Generator produces a deterministic sequence of accounts. It is not safe
// for concurrent use: the sequence is defined by call order.
type Generator struct {
	rng  *rand.Rand
	opts Options
	// seq numbers the accounts; UIDs and email tokens are bijections of it,
	// which makes them unique by construction rather than by chance.
	seq uint64
	// uidKey and tokenKey make those bijections differ between seeds.
	uidKey   uint64
	tokenKey uint32
}

// New returns a generator whose output is fully determined by seed and opts.
func New(seed int64, opts Options) *Generator {
	// The second PCG word is a fixed constant so that seed alone picks the stream.
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6769677961736d70))
	return &Generator{
		rng:      rng,
		opts:     opts.withDefaults(),
		uidKey:   rng.Uint64(),
		tokenKey: rng.Uint32(),
	}
}

// Next generates the next account of the sequence.
func (g *Generator) Next() Account {
	g.seq++
	b := &builder{
		rng:   g.rng,
		opts:  g.opts,
		uid:   fmt.Sprintf("%016x%016x", g.rng.Uint64(), mix64(g.seq^g.uidKey)),
		token: base36(mix32(uint32(g.seq) ^ g.tokenKey)),
	}
	acc := b.build()
	js, err := json.Marshal(b.doc)
	if err != nil {
		// The document is built only from strings, numbers, bools, slices
		// and string-keyed maps of those, which always marshal.
		panic(fmt.Sprintf("sample: marshal account %s: %v", b.uid, err))
	}
	acc.JSON = js
	return acc
}

// WriteJSONL writes n accounts generated from seed and opts to w, one
// compact JSON object per line, in the layout of a Gigya JSON-lines export.
func WriteJSONL(w io.Writer, seed int64, n int, opts Options) error {
	g := New(seed, opts)
	bw := bufio.NewWriterSize(w, 64<<10)
	for i := 0; i < n; i++ {
		a := g.Next()
		if _, err := bw.Write(a.JSON); err != nil {
			return fmt.Errorf("write account %d: %w", i, err)
		}
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("write account %d: %w", i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("flush accounts: %w", err)
	}
	return nil
}

// mix64 is the splitmix64 finalizer. Each step (xor-shift, odd multiply) is
// invertible, so distinct inputs always give distinct outputs.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// mix32 is murmur3's fmix32, a bijection on uint32 like mix64.
func mix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

func base36(v uint32) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	if v == 0 {
		return "0"
	}
	var buf [7]byte
	i := len(buf)
	for v > 0 {
		i--
		buf[i] = digits[v%36]
		v /= 36
	}
	return string(buf[i:])
}
