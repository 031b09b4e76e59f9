package sdk

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
)

const (
	gigyaAPIKey   = "3_sdk-conformance"
	gigyaPartner  = "sdk-partner-secret"
	gigyaUserKey  = "AKeySDK"
	gigyaRSAKey   = "AKeyRSA"
	gigyaAccounts = 23
	gigyaPageSize = 5
)

// gigyaInput is what gigya.js reads.
type gigyaInput struct {
	Base          string `json:"base"`
	LimitedBase   string `json:"limitedBase"`
	APIKey        string `json:"apiKey"`
	Secret        string `json:"secret"`
	UserKey       string `json:"userKey"`
	UserSecret    string `json:"userSecret"`
	WrongSecret   string `json:"wrongSecret"`
	RSAUserKey    string `json:"rsaUserKey"`
	RSAPrivateKey string `json:"rsaPrivateKey"`
	LoginID       string `json:"loginID"`
	Password      string `json:"password"`
	PageSize      int    `json:"pageSize"`
}

// account is the part of a simulated account the test reads.
type account struct {
	UID            string `json:"UID"`
	IsActive       *bool  `json:"isActive"`
	IsRegistered   *bool  `json:"isRegistered"`
	HasLiteAccount *bool  `json:"hasLiteAccount"`
	HasFullAccount *bool  `json:"hasFullAccount"`
	LoginIDs       struct {
		Emails []string `json:"emails"`
	} `json:"loginIDs"`
}

func (a account) full() bool {
	if a.HasFullAccount != nil {
		return *a.HasFullAccount
	}
	return a.HasLiteAccount == nil || !*a.HasLiteAccount
}

// TestGigyaSDK drives the Gigya simulator with the gigya package: every
// account paged through with a cursor, a login with the right and a wrong
// password, the same through a user key that signs its requests, a wrong
// user-key secret, a client clock 10 minutes slow, and the bearer JWT of an
// RSA user key.
func TestGigyaSDK(t *testing.T) {
	t.Parallel()
	requirePackages(t)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	userSecret := base64.StdEncoding.EncodeToString([]byte("the user key's secret, as bytes"))
	sim, err := gigyasim.New(gigyasim.Options{
		Accounts: gigyaAccounts, Seed: 7, APIKey: gigyaAPIKey, Secret: gigyaPartner,
		// Logins leave lastUpdatedTimestamp alone, so that the order of the
		// search (by lastUpdatedTimestamp) is the same before and after them.
		KeepTimestampsOnLogin: true,
		Apps: map[string]gigyasim.App{
			gigyaUserKey: {Secret: userSecret},
			gigyaRSAKey:  {PublicKey: &rsaKey.PublicKey},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	// A second site allowing one search per second, for the rate limit.
	limited, err := gigyasim.New(gigyasim.Options{Accounts: 1, APIKey: gigyaAPIKey, Secret: gigyaPartner, SearchRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	limitedBase, stopLimited, err := limited.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopLimited)

	var fullUIDs []string
	for _, uid := range sim.UIDs() {
		if acct(t, sim, uid).full() {
			fullUIDs = append(fullUIDs, uid)
		}
	}
	loginUID, loginID, password := loginAccount(t, sim, base)

	out := runScript(t, "gigya.js", gigyaInput{
		Base: base, LimitedBase: limitedBase, APIKey: gigyaAPIKey, Secret: gigyaPartner,
		UserKey: gigyaUserKey, UserSecret: userSecret, WrongSecret: base64.StdEncoding.EncodeToString([]byte("not the secret")),
		RSAUserKey: gigyaRSAKey, RSAPrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		LoginID: loginID, Password: password, PageSize: gigyaPageSize,
	})

	type walk struct {
		UIDs       []string `json:"uids"`
		Pages      []int    `json:"pages"`
		TotalCount int      `json:"totalCount"`
	}
	wantPages := func(n int) []int {
		var p []int
		for ; n > 0; n -= gigyaPageSize {
			p = append(p, min(n, gigyaPageSize))
		}
		return p
	}
	for _, name := range []string{"searchPartnerSecret", "searchSigned", "searchBearer"} {
		t.Run(name, func(t *testing.T) {
			w := result[walk](t, out, name)
			if !slices.Equal(w.UIDs, fullUIDs) {
				t.Fatalf("paged through %d accounts %v, want the %d full accounts %v", len(w.UIDs), w.UIDs, len(fullUIDs), fullUIDs)
			}
			if !slices.Equal(w.Pages, wantPages(len(fullUIDs))) || w.TotalCount != len(fullUIDs) {
				t.Fatalf("pages %v, totalCount %d; want %v, %d", w.Pages, w.TotalCount, wantPages(len(fullUIDs)), len(fullUIDs))
			}
		})
	}
	type login struct {
		ErrorCode int    `json:"errorCode"`
		UID       string `json:"UID"`
	}
	for _, name := range []string{"loginRight", "loginSigned"} {
		t.Run(name, func(t *testing.T) {
			if l := result[login](t, out, name); l.ErrorCode != 0 || l.UID != loginUID {
				t.Fatalf("login %+v, want UID %s", l, loginUID)
			}
		})
	}
	for name, code := range map[string]int{
		"loginWrong":           403042, // invalid loginID or password
		"signedWrongSecret":    403003, // invalid request signature
		"signedClockBehind":    403002, // request has expired
		"signedFalseParameter": 403003, // see docs/apis/gigya.md, "Signed requests"
		"rateLimited":          403048, // thrown at once: see docs/apis/gigya.md, "Transient errors"
	} {
		t.Run(name, func(t *testing.T) {
			e := result[thrown](t, out, name)
			if e.ErrorCode != code || e.GigyaResponse["errorCode"] != float64(code) {
				t.Fatalf("%s: %+v, want a GigyaError with errorCode %d", name, e, code)
			}
		})
	}
	// The package signed with the user key (it never sent that secret) and
	// signed JWTs with the RSA key: every page and a login, every page.
	st := sim.Stats()
	pages := len(wantPages(len(fullUIDs)))
	if a := st.Authenticated; a[gigyasim.AuthSigned] != pages+1 || a[gigyasim.AuthBearer] != pages || a[gigyasim.AuthUserKeySecret] != 0 {
		t.Errorf("authenticated by mode %v; want %d signed, %d bearer, no user-key secret", a, pages+1, pages)
	}
	if st.Errors[403003] != 2 || st.Errors[403002] != 1 || st.Errors[403042] != 1 {
		t.Errorf("errors by code %v", st.Errors)
	}
	// One 403048 and no retry: the package does not sleep and try again.
	if st := limited.Stats(); st.RateLimited != 1 || st.Requests["accounts.search"] != 2 {
		t.Errorf("the limited site saw %d searches and %d rate-limit answers, want 2 and 1", st.Requests["accounts.search"], st.RateLimited)
	}
}

func acct(t *testing.T, sim *gigyasim.Sim, uid string) account {
	t.Helper()
	raw, ok := sim.Account(uid)
	if !ok {
		t.Fatalf("no account %s", uid)
	}
	var a account
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// loginAccount picks an account whose password the simulator knows and
// that logs in (active, registered, its email its own), checked with a
// plain HTTP call so that the SDK scenarios test the SDK, not the choice.
func loginAccount(t *testing.T, sim *gigyasim.Sim, base string) (uid, loginID, password string) {
	t.Helper()
	passwords := sim.Passwords()
	for _, uid := range sim.UIDs() {
		pw, ok := passwords[uid]
		a := acct(t, sim, uid)
		if !ok || !a.full() || a.IsActive == nil || !*a.IsActive || a.IsRegistered == nil || !*a.IsRegistered || len(a.LoginIDs.Emails) == 0 {
			continue
		}
		resp, err := http.PostForm(base+"/accounts.login", url.Values{"apiKey": {gigyaAPIKey}, "secret": {gigyaPartner}, "format": {"json"},
			"loginID": {a.LoginIDs.Emails[0]}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			ErrorCode int    `json:"errorCode"`
			UID       string `json:"UID"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err == nil && got.ErrorCode == 0 && got.UID == uid {
			return uid, a.LoginIDs.Emails[0], pw
		}
	}
	t.Fatal("no account of the sample logs in")
	return "", "", ""
}
