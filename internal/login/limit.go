package login

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limitAllow takes one token of lim at now, or says how long until one is
// there without taking it.
func limitAllow(lim *rate.Limiter, now time.Time) (bool, time.Duration) {
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// identifierLimits limits Gigya logins per login identifier, so that the
// service cannot be used to guess passwords against Gigya, whatever the
// caller. The identifier never becomes a key: an HMAC of it under a key
// drawn at start-up does, so the limiter's memory (and a heap dump) holds
// no email and the keys cannot be brute-forced offline. The map is
// bounded: past max entries, those whose bucket is full again (idle long
// enough to have no history worth keeping) go first, then arbitrary ones.
type identifierLimits struct {
	limit rate.Limit
	burst int
	max   int
	key   [32]byte
	now   func() time.Time

	mu sync.Mutex
	m  map[[16]byte]*identifierEntry
}

type identifierEntry struct {
	lim  *rate.Limiter
	last time.Time
}

// maxIdentifiers bounds the per-identifier limiter: a few MB.
const maxIdentifiers = 200_000

func newIdentifierLimits(perSecond float64, burst int, now func() time.Time) *identifierLimits {
	l := &identifierLimits{limit: rate.Limit(perSecond), burst: burst, max: maxIdentifiers, now: now, m: map[[16]byte]*identifierEntry{}}
	_, _ = rand.Read(l.key[:]) // never fails (crypto/rand)
	return l
}

// digest is the limiter key of an identifier: emails compare without case
// or surrounding space in Gigya's login IDs.
func (l *identifierLimits) digest(identifier string) [16]byte {
	mac := hmac.New(sha256.New, l.key[:])
	mac.Write([]byte(strings.ToLower(strings.TrimSpace(identifier))))
	var d [16]byte
	copy(d[:], mac.Sum(nil))
	return d
}

// allow takes one login of identifier, or says when the next one is
// allowed.
func (l *identifierLimits) allow(identifier string) (bool, time.Duration) {
	d := l.digest(identifier)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[d]
	if e == nil {
		if len(l.m) >= l.max {
			l.evictLocked(now)
		}
		e = &identifierEntry{lim: rate.NewLimiter(l.limit, l.burst)}
		l.m[d] = e
	}
	e.last = now
	return limitAllow(e.lim, now)
}

// refill is how long an idle entry takes to be a fresh bucket again.
func (l *identifierLimits) refill() time.Duration {
	return time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
}

func (l *identifierLimits) evictLocked(now time.Time) {
	idle := l.refill()
	for k, e := range l.m {
		if now.Sub(e.last) >= idle {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) < l.max*9/10 {
			break
		}
		delete(l.m, k)
	}
}

// len is the number of identifiers held.
func (l *identifierLimits) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
