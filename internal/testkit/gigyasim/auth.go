package gigyasim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/encoding/json"
)

// JWT age limits of the bearer mode.
const (
	jwtMaxAge  = 5 * time.Minute
	jwtMaxSkew = time.Minute
)

func secretEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// AuthMode names a way a request authenticated (docs/apis/gigya.md,
// "Authentication"); Stats.Authenticated counts them.
type AuthMode string

// The authentication modes.
const (
	AuthPartnerSecret AuthMode = "partner-secret"  // apiKey + secret
	AuthUserKeySecret AuthMode = "user-key-secret" // apiKey + userKey + secret
	AuthSigned        AuthMode = "signed"          // apiKey [+ userKey] + timestamp + nonce + sig
	AuthBearer        AuthMode = "bearer"          // Authorization: Bearer <RS256 JWT>
)

// authenticate checks the credentials of a request (docs/apis/gigya.md,
// "Authentication"): the apiKey, then the bearer JWT, a signature
// (timestamp, nonce, sig), or the form's userKey+secret / partner secret.
// It counts the mode of a request that passes.
func (s *Sim) authenticate(r *http.Request, form url.Values) *gerr {
	mode, e := s.authMode(r, form)
	if e == nil {
		s.stats.add(func(st *Stats) { st.Authenticated[mode]++ })
	}
	return e
}

func (s *Sim) authMode(r *http.Request, form url.Values) (AuthMode, *gerr) {
	if k := form.Get("apiKey"); k == "" || k != s.opts.APIKey {
		if k == "" {
			return "", newErr(codeInvalidAPIKey, "Missing apiKey parameter")
		}
		return "", newErr(codeInvalidAPIKey, "Invalid apiKey: "+k)
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return AuthBearer, s.checkJWT(strings.TrimSpace(tok))
		}
	}
	if form.Has("sig") {
		return AuthSigned, s.checkSigned(r, form)
	}
	secret := form.Get("secret")
	if uk := form.Get("userKey"); uk != "" {
		app, ok := s.opts.Apps[uk]
		if !ok {
			return "", newErr(codeUnauthorizedUser, "unknown userKey "+uk)
		}
		if secret == "" {
			return "", newErr(codeMissingParameter, "secret")
		}
		if !secretEqual(secret, app.Secret) {
			return "", newErr(codeInvalidSignature, "invalid secret for userKey "+uk)
		}
		return AuthUserKeySecret, nil
	}
	if secret == "" {
		return "", newErr(codeMissingParameter, "secret (or userKey+secret, a signature, or Authorization: Bearer <jwt>): the simulator accepts server-side calls only")
	}
	if !secretEqual(secret, s.opts.Secret) {
		return "", newErr(codeInvalidSignature, "invalid partner secret")
	}
	return AuthPartnerSecret, nil
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

type jwtPayload struct {
	Iat *float64 `json:"iat"`
	Jti string   `json:"jti"`
}

func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// checkJWT verifies an RS256 JWT whose kid is a userKey with a registered
// public key, and whose iat is at most 5 minutes old and at most 1 minute
// in the future.
func (s *Sim) checkJWT(tok string) *gerr {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return newErr(codeInvalidParameter, "invalid JWT: expected header.payload.signature")
	}
	var hdr jwtHeader
	var pl jwtPayload
	hb, err := b64url(parts[0])
	if err == nil {
		err = json.Unmarshal(hb, &hdr)
	}
	if err != nil {
		return newErr(codeInvalidParameter, "invalid JWT header")
	}
	pb, err := b64url(parts[1])
	if err == nil {
		err = json.Unmarshal(pb, &pl)
	}
	if err != nil {
		return newErr(codeInvalidParameter, "invalid JWT payload")
	}
	sig, err := b64url(parts[2])
	if err != nil {
		return newErr(codeInvalidParameter, "invalid JWT signature encoding")
	}
	if hdr.Alg != "RS256" {
		return newErr(codeInvalidParameter, "invalid JWT: alg must be RS256, got "+hdr.Alg)
	}
	if hdr.Kid == "" {
		return newErr(codeUnauthorizedUser, "JWT header has no kid (userKey)")
	}
	app, ok := s.opts.Apps[hdr.Kid]
	if !ok {
		return newErr(codeUnauthorizedUser, "unknown userKey "+hdr.Kid)
	}
	if app.PublicKey == nil {
		return newErr(codeUnauthorizedUser, "no public key registered for userKey "+hdr.Kid)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(app.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return newErr(codeInvalidSignature, "JWT signature does not verify with the key of userKey "+hdr.Kid)
	}
	if pl.Iat == nil || math.IsNaN(*pl.Iat) {
		return newErr(codeInvalidParameter, "invalid JWT: missing iat")
	}
	now := s.now()
	iat := time.Unix(int64(*pl.Iat), 0)
	if now.Sub(iat) > jwtMaxAge {
		return newErr(codeRequestExpired, "JWT iat is older than 5 minutes")
	}
	if iat.Sub(now) > jwtMaxSkew {
		return newErr(codeRequestExpired, "JWT iat is more than 1 minute in the future")
	}
	return nil
}

// limiter is a token bucket per (method, apiKey) that follows the
// simulator's clock: it holds up to max(1, rate) tokens and refills at
// rate tokens per second.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (l *limiter) allow(key string, rate float64, now time.Time) bool {
	if rate <= 0 {
		return true
	}
	burst := math.Max(1, rate)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el.Seconds()*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
