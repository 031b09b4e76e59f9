package gigyasim

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testSign signs form for rawURL the way docs/apis/gigya.md ("Signed
// requests") describes, written apart from signed.go so that the two check
// each other: sorted name=value pairs, values RFC 3986-encoded, base string
// POST&enc(url)&enc(pairs), HMAC-SHA1 keyed with the decoded secret.
func testSign(t *testing.T, secret, rawURL string, form url.Values) string {
	t.Helper()
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	var names []string
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	var pairs []string
	for _, k := range names {
		pairs = append(pairs, k+"="+enc(form.Get(k)))
	}
	key, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha1.New, key)
	m.Write([]byte("POST&" + enc(rawURL) + "&" + enc(strings.Join(pairs, "&"))))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestSignedRequests(t *testing.T) {
	const (
		appSecret     = "c2VjcmV0LWtleS1mb3ItdGVzdHM=" // base64 of "secret-key-for-tests"
		partnerSecret = "cGFydG5lci1zZWNyZXQ="         // base64 of "partner-secret"
		dcURL         = "https://accounts.us1.gigya.com/accounts.search"
	)
	clk := newFakeClock()
	_, base := startSim(t, Options{
		Accounts: 3,
		APIKey:   "3_site",
		Secret:   partnerSecret,
		Apps: map[string]App{
			"AKey1":    {Secret: appSecret},
			"NotB64":   {Secret: "not base64!"},
			"EmptyApp": {},
		},
		Clock: clk.Now,
	})
	now := clk.Now()
	query := `SELECT UID, profile.email FROM accounts WHERE profile.email = "a+b@x.com" LIMIT 10`
	signed := func(secret, rawURL string, ts time.Time, millis bool, kv ...string) url.Values {
		f := url.Values{"apiKey": {"3_site"}, "format": {"json"}, "query": {query}, "nonce": {"12345"}}
		stamp := strconv.FormatInt(ts.Unix(), 10)
		if millis {
			stamp = strconv.FormatInt(ts.UnixMilli(), 10)
		}
		f.Set("timestamp", stamp)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
				continue
			}
			f.Set(kv[i], kv[i+1])
		}
		f.Set("sig", testSign(t, secret, rawURL, f))
		return f
	}
	reached := base + "/accounts.search"

	cases := []struct {
		name string
		form url.Values
		want int
	}{
		{"userKey, seconds, data-center URL", signed(appSecret, dcURL, now, false, "userKey", "AKey1"), 0},
		{"userKey, milliseconds (node-gigya)", signed(appSecret, dcURL, now, true, "userKey", "AKey1"), 0},
		{"userKey, the URL reached", signed(appSecret, reached, now, false, "userKey", "AKey1"), 0},
		{"partner secret, no userKey", signed(partnerSecret, dcURL, now, false), 0},
		{"2m59s old", signed(appSecret, dcURL, now.Add(-179*time.Second), false, "userKey", "AKey1"), 0},
		{"2m59s ahead", signed(appSecret, dcURL, now.Add(179*time.Second), true, "userKey", "AKey1"), 0},

		{"wrong secret", signed(partnerSecret, dcURL, now, false, "userKey", "AKey1"), codeInvalidSignature},
		{"another data center", signed(appSecret, "https://accounts.eu1.gigya.com/accounts.search", now, false, "userKey", "AKey1"), codeInvalidSignature},
		{"3m01s old", signed(appSecret, dcURL, now.Add(-181*time.Second), false, "userKey", "AKey1"), codeRequestExpired},
		{"3m01s ahead", signed(appSecret, dcURL, now.Add(181*time.Second), true, "userKey", "AKey1"), codeRequestExpired},
		{"no nonce", signed(appSecret, dcURL, now, false, "userKey", "AKey1", "nonce", ""), codeMissingParameter},
		{"no timestamp", signed(appSecret, dcURL, now, false, "userKey", "AKey1", "timestamp", ""), codeMissingParameter},
		{"timestamp not a number", signed(appSecret, dcURL, now, false, "userKey", "AKey1", "timestamp", "soon"), codeInvalidParameter},
		{"unknown userKey", signed(appSecret, dcURL, now, false, "userKey", "Nobody"), codeUnauthorizedUser},
		{"userKey secret not base64", signed(appSecret, dcURL, now, false, "userKey", "NotB64"), codeInvalidSignature},
		{"userKey without a secret", signed(appSecret, dcURL, now, false, "userKey", "EmptyApp"), codeInvalidSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := callAPI(t, base, "accounts.search", c.form, nil)
			wantCode(t, g, c.want)
			if c.want == 0 && g.int("totalCount") != 0 {
				t.Fatalf("query should match nothing: %v", g)
			}
			for _, secret := range []string{appSecret, partnerSecret, "secret-key-for-tests"} {
				if strings.Contains(g.str("errorDetails"), secret) {
					t.Fatalf("errorDetails reveal a secret: %q", g.str("errorDetails"))
				}
			}
		})
	}

	t.Run("tampered parameter", func(t *testing.T) {
		f := signed(appSecret, dcURL, now, false, "userKey", "AKey1")
		f.Set("query", "SELECT * FROM accounts")
		wantCode(t, callAPI(t, base, "accounts.search", f, nil), codeInvalidSignature)
	})
	t.Run("sig not base64", func(t *testing.T) {
		f := signed(appSecret, dcURL, now, false, "userKey", "AKey1")
		f.Set("sig", "%%%")
		wantCode(t, callAPI(t, base, "accounts.search", f, nil), codeInvalidSignature)
	})
	t.Run("accounts.login", func(t *testing.T) {
		f := url.Values{"apiKey": {"3_site"}, "format": {"json"}, "loginID": {"nobody@example.com"}, "password": {"x"},
			"userKey": {"AKey1"}, "nonce": {"1"}, "timestamp": {strconv.FormatInt(now.Unix(), 10)}}
		f.Set("sig", testSign(t, appSecret, "https://accounts.us1.gigya.com/accounts.login", f))
		// Authenticated, then refused as a login: the signature passed.
		wantCode(t, callAPI(t, base, "accounts.login", f, nil), codeInvalidLoginID)
	})
	t.Run("the clock moves", func(t *testing.T) {
		f := signed(appSecret, dcURL, now, false, "userKey", "AKey1")
		clk.Add(4 * time.Minute)
		defer clk.Add(-4 * time.Minute)
		wantCode(t, callAPI(t, base, "accounts.search", f, nil), codeRequestExpired)
	})
}

// TestSignedRequestNodeGigyaVector checks a signature computed by the npm
// package gigya 3.0.1 (CredentialsSigner.createRequestSignature, run by hand
// on the inputs below): the simulator must accept exactly what that SDK
// sends, a millisecond timestamp and a numeric nonce included.
func TestSignedRequestNodeGigyaVector(t *testing.T) {
	at := time.UnixMilli(1767268800123)
	s, base := startSim(t, Options{
		APIKey: "3_site",
		Apps:   map[string]App{"AKey1": {Secret: "c2VjcmV0LWtleS1mb3ItdGVzdHM="}},
		Clock:  func() time.Time { return at },
	})
	f := url.Values{
		"apiKey":     {"3_site"},
		"query":      {`SELECT UID, profile.email FROM accounts WHERE profile.email = "a+b@x.com" LIMIT 10`},
		"openCursor": {"true"},
		"format":     {"json"},
		"userKey":    {"AKey1"},
		"timestamp":  {"1767268800123"},
		"nonce":      {"424242"},
		"sig":        {"ctQrKyRxHsWu4NlMHAwYrOGw5TM="},
	}
	wantCode(t, callAPI(t, base, "accounts.search", f, nil), 0)
	f.Set("nonce", "424243")
	wantCode(t, callAPI(t, base, "accounts.search", f, nil), codeInvalidSignature)
	if got := s.Stats().Authenticated; got[AuthSigned] != 1 || len(got) != 1 {
		t.Fatalf("authenticated by mode %v", got)
	}
}

func TestSignedDataCenterOption(t *testing.T) {
	const secret = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
	clk := newFakeClock()
	_, base := startSim(t, Options{APIKey: "3_site", Apps: map[string]App{"K": {Secret: secret}}, DataCenter: "EU1.gigya.com", Clock: clk.Now})
	f := url.Values{"apiKey": {"3_site"}, "query": {"SELECT UID FROM accounts"}, "userKey": {"K"}, "nonce": {"n"},
		"timestamp": {strconv.FormatInt(clk.Now().Unix(), 10)}}
	f.Set("sig", testSign(t, secret, "https://accounts.eu1.gigya.com/accounts.search", f))
	wantCode(t, callAPI(t, base, "accounts.search", f, nil), 0)
}

func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{
		"abcXYZ019-._~": "abcXYZ019-._~",
		"a b+c":         "a%20b%2Bc",
		"!*'()":         "%21%2A%27%28%29",
		"é":             "%C3%A9",
		`"=&/`:          "%22%3D%26%2F",
	} {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
