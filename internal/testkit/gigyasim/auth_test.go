package gigyasim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signJWT builds an RS256 JWT by hand, as the Gigya bearer mode expects.
func signJWT(t *testing.T, key *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func TestAuthModes(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	s, base := startSim(t, Options{
		Accounts: 5,
		APIKey:   "3_site",
		Secret:   "partner-secret",
		Apps: map[string]App{
			"AppKeyRSA":    {PublicKey: &key.PublicKey},
			"AppKeySecret": {Secret: "app-secret"},
		},
		Clock: clk.Now,
	})
	query := "SELECT UID FROM accounts"
	form := func(kv ...string) url.Values {
		f := url.Values{"format": {"json"}, "query": {query}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	now := clk.Now().Unix()
	hdr := `{"alg":"RS256","typ":"JWT","kid":"AppKeyRSA"}`
	payload := func(iat int64) string {
		return `{"iat":` + itoa(iat) + `,"jti":"` + randomHex(8) + `"}`
	}
	good := signJWT(t, key, hdr, payload(now))
	parts := strings.Split(good, ".")

	cases := []struct {
		name   string
		form   url.Values
		header http.Header
		want   int
	}{
		{"partner secret", form("apiKey", "3_site", "secret", "partner-secret"), nil, 0},
		{"userKey+secret", form("apiKey", "3_site", "userKey", "AppKeySecret", "secret", "app-secret"), nil, 0},
		{"jwt", form("apiKey", "3_site"), bearer(good), 0},
		{"jwt 4m59s old", form("apiKey", "3_site"), bearer(signJWT(t, key, hdr, payload(now-299))), 0},
		{"jwt 59s ahead", form("apiKey", "3_site"), bearer(signJWT(t, key, hdr, payload(now+59))), 0},

		{"missing apiKey", form("secret", "partner-secret"), nil, 400093},
		{"wrong apiKey", form("apiKey", "3_other", "secret", "partner-secret"), nil, 400093},
		{"wrong apiKey with jwt", form("apiKey", "3_other"), bearer(good), 400093},
		{"wrong partner secret", form("apiKey", "3_site", "secret", "nope"), nil, 403003},
		{"no credentials", form("apiKey", "3_site"), nil, 400002},
		{"unknown userKey", form("apiKey", "3_site", "userKey", "Nobody", "secret", "app-secret"), nil, 403005},
		{"userKey wrong secret", form("apiKey", "3_site", "userKey", "AppKeySecret", "secret", "partner-secret"), nil, 403003},
		{"userKey without secret", form("apiKey", "3_site", "userKey", "AppKeySecret"), nil, 400002},
		{"userKey with only a public key", form("apiKey", "3_site", "userKey", "AppKeyRSA", "secret", ""), nil, 400002},
		{"userKey with only a public key and a secret", form("apiKey", "3_site", "userKey", "AppKeyRSA", "secret", "x"), nil, 403003},

		{"jwt unknown kid", form("apiKey", "3_site"), bearer(signJWT(t, key, `{"alg":"RS256","typ":"JWT","kid":"Nobody"}`, payload(now))), 403005},
		{"jwt kid without public key", form("apiKey", "3_site"), bearer(signJWT(t, key, `{"alg":"RS256","typ":"JWT","kid":"AppKeySecret"}`, payload(now))), 403005},
		{"jwt signed by another key", form("apiKey", "3_site"), bearer(signJWT(t, other, hdr, payload(now))), 403003},
		{"jwt tampered payload", form("apiKey", "3_site"), bearer(parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(payload(now+1))) + "." + parts[2]), 403003},
		{"jwt iat too old", form("apiKey", "3_site"), bearer(signJWT(t, key, hdr, payload(now-301))), 403002},
		{"jwt iat in the future", form("apiKey", "3_site"), bearer(signJWT(t, key, hdr, payload(now+61))), 403002},
		{"jwt without iat", form("apiKey", "3_site"), bearer(signJWT(t, key, hdr, `{"jti":"x"}`)), 400006},
		{"jwt alg HS256", form("apiKey", "3_site"), bearer(signJWT(t, key, `{"alg":"HS256","typ":"JWT","kid":"AppKeyRSA"}`, payload(now))), 400006},
		{"jwt malformed", form("apiKey", "3_site"), bearer("not-a-jwt"), 400006},
		{"jwt bad base64", form("apiKey", "3_site"), bearer("%%%.%%%.%%%"), 400006},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := callAPI(t, base, "accounts.search", c.form, c.header)
			wantCode(t, g, c.want)
			if c.want != 0 && g.str("errorDetails") == "" {
				t.Fatalf("no errorDetails: %v", g)
			}
		})
	}
	// Auth applies to accounts.login too.
	g := callAPI(t, base, "accounts.login", url.Values{"apiKey": {"3_site"}, "secret": {"bad"}, "loginID": {"a@b.c"}, "password": {"x"}}, nil)
	wantCode(t, g, 403003)
	if st := s.Stats(); st.Errors[403003] < 4 || st.Errors[400093] != 3 {
		t.Fatalf("errors by code: %v", st.Errors)
	}
	if st := s.Stats(); st.Authenticated[AuthPartnerSecret] != 1 || st.Authenticated[AuthUserKeySecret] != 1 || st.Authenticated[AuthBearer] != 3 || st.Authenticated[AuthSigned] != 0 {
		t.Fatalf("authenticated by mode: %v", st.Authenticated)
	}
	// The clock moves: the same good token is now too old.
	clk.Add(6 * time.Minute)
	g = callAPI(t, base, "accounts.search", form("apiKey", "3_site"), bearer(good))
	wantCode(t, g, 403002)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestDefaultCredentials(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 2})
	if s.APIKey() != DefaultAPIKey || s.Secret() != DefaultSecret {
		t.Fatalf("defaults %q %q", s.APIKey(), s.Secret())
	}
	g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts"), nil)
	wantCode(t, g, 0)
	// With apps, the partner secret is not defaulted: that mode is off.
	s2, base2 := startSim(t, Options{Apps: map[string]App{"k": {Secret: "s"}}})
	g = callAPI(t, base2, "accounts.search", url.Values{"apiKey": {s2.APIKey()}, "secret": {DefaultSecret}, "query": {"SELECT * FROM accounts"}}, nil)
	wantCode(t, g, 403003)
}
