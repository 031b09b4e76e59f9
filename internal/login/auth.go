package login

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"golang.org/x/time/rate"
)

// caller is one configured client: its name, the digest of its secret and
// its rate limiter.
type caller struct {
	name   string
	digest [32]byte
	limit  *rate.Limiter
}

// callers authenticates requests by their secret.
type callers []*caller

func newCallers(s Settings) callers {
	out := make(callers, len(s.Clients))
	for i, c := range s.Clients {
		out[i] = &caller{name: c.Name, digest: sha256.Sum256([]byte(c.Secret)), limit: rate.NewLimiter(rate.Limit(s.Rate.PerClient), s.Rate.ClientBurst)}
	}
	return out
}

// authenticate returns the caller whose secret the request carries
// (Authorization: Bearer <secret>), or nil. The secrets are compared as
// SHA-256 digests with crypto/subtle, every one of them whatever matched,
// so that neither the time taken nor the length of a secret tells an
// attacker how close a guess came.
func (cs callers) authenticate(r *http.Request) *caller {
	auth := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		secret = ""
	}
	secret = strings.TrimSpace(secret)
	d := sha256.Sum256([]byte(secret))
	var found *caller
	for _, c := range cs {
		if subtle.ConstantTimeCompare(d[:], c.digest[:]) == 1 && secret != "" && found == nil {
			found = c
		}
	}
	return found
}
