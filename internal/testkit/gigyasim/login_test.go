package gigyasim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// loginAccount describes a generated account for login tests.
type loginAccount struct {
	uid, email, password, scheme string
	active, verified             bool
}

// scheme names a hash layout: the algorithm plus whether a format template is used.
func schemeOf(acct map[string]any) string {
	pw, ok := acct["password"].(map[string]any)
	if !ok {
		return ""
	}
	hs := pw["hashSettings"].(map[string]any)
	name, _ := hs["algorithm"].(string)
	if f, ok := hs["format"].(string); ok {
		name += " format " + f
	}
	return name
}

func loginAccounts(t *testing.T, s *Sim) []loginAccount {
	var out []loginAccount
	pws := s.Passwords()
	for _, uid := range s.UIDs() {
		a := accountMap(t, s, uid)
		prof, _ := a["profile"].(map[string]any)
		email, _ := prof["email"].(string)
		la := loginAccount{uid: uid, email: email, password: pws[uid], scheme: schemeOf(a)}
		la.active, _ = a["isActive"].(bool)
		la.verified, _ = a["isVerified"].(bool)
		out = append(out, la)
	}
	return out
}

func login(t *testing.T, s *Sim, base, loginID, password string, kv ...string) gresp {
	t.Helper()
	return callAPI(t, base, "accounts.login", partner(s, append([]string{"loginID", loginID, "password", password}, kv...)...), nil)
}

func TestLoginEveryVerifiableScheme(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 400, Seed: 21, KeepTimestampsOnLogin: true})
	tried := map[string]bool{}
	unverifiable := map[string]bool{}
	for _, a := range loginAccounts(t, s) {
		if a.scheme == "" || !a.active {
			continue
		}
		if a.password == "" {
			if tried[a.scheme] || unverifiable[a.scheme] {
				continue
			}
			// md5_crypt, custom: no plaintext known, any password fails.
			unverifiable[a.scheme] = true
			wantCode(t, login(t, s, base, a.email, "anything"), 403042)
			continue
		}
		if tried[a.scheme] {
			continue
		}
		tried[a.scheme] = true
		g := login(t, s, base, strings.ToUpper(a.email), a.password, "targetEnv", "mobile")
		wantCode(t, g, 0)
		if g.str("UID") != a.uid {
			t.Fatalf("%s: logged into %s, want %s", a.scheme, g.str("UID"), a.uid)
		}
		si, _ := g["sessionInfo"].(map[string]any)
		if si["sessionToken"] == nil || si["sessionSecret"] == nil {
			t.Fatalf("%s: sessionInfo %v", a.scheme, si)
		}
		wantCode(t, login(t, s, base, a.email, a.password+"x"), 403042)
	}
	want := []string{
		"bcrypt", "md5", "md5 format $password$salt", "md5 format $salt$password",
		"pbkdf2", "pbkdf2_sha256", "pbkdf2_sha512", "sha1",
		"sha1 format $password$salt", "sha1 format $salt$password",
		"sha256 format $password$salt", "sha256 format $salt$password",
		"sha512 format $password$salt", "sha512 format $salt$password",
	}
	var got []string
	for k := range tried {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("verified schemes %v, want all of %v", got, want)
	}
	if !unverifiable["md5_crypt"] || !unverifiable["custom"] {
		t.Fatalf("unverifiable schemes tried: %v", unverifiable)
	}
	if s.Stats().Logins != len(want) {
		t.Fatalf("Logins %d", s.Stats().Logins)
	}
}

// firstLoginable returns an active, registered, verified site account with a known password.
func firstLoginable(t *testing.T, s *Sim, skip int) loginAccount {
	for _, a := range loginAccounts(t, s) {
		if a.password != "" && a.active && a.verified {
			if skip == 0 {
				return a
			}
			skip--
		}
	}
	t.Fatal("no loginable account")
	return loginAccount{}
}

func TestLoginErrors(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 60, Seed: 22})
	a := firstLoginable(t, s, 0)
	wantCode(t, login(t, s, base, "nobody@example.com", "x"), 403042)
	g := login(t, s, base, a.email, "wrong")
	wantCode(t, g, 403042)
	wantCode(t, callAPI(t, base, "accounts.login", partner(s, "password", "x"), nil), 400002)
	wantCode(t, callAPI(t, base, "accounts.login", partner(s, "loginID", a.email), nil), 400002)
	wantCode(t, login(t, s, base, a.email, a.password, "include", "profile,bogus"), 400006)

	// Disabled.
	if err := s.Update(a.uid, func(m map[string]any) { m["isActive"] = false }); err != nil {
		t.Fatal(err)
	}
	wantCode(t, login(t, s, base, a.email, a.password), 403041)
	wantCode(t, login(t, s, base, a.email, "wrong"), 403042)

	// Pending registration: the password was right, the response carries a regToken.
	b := firstLoginable(t, s, 1)
	if err := s.Update(b.uid, func(m map[string]any) { m["isRegistered"] = false }); err != nil {
		t.Fatal(err)
	}
	g = login(t, s, base, b.email, b.password)
	wantCode(t, g, 206001)
	if g.str("regToken") == "" {
		t.Fatalf("206001 without regToken: %v", g)
	}
	wantCode(t, login(t, s, base, b.email, "wrong"), 403042)

	// A social-only or lite account cannot log in with a password.
	for _, la := range loginAccounts(t, s) {
		if la.scheme == "" && la.email != "" {
			wantCode(t, login(t, s, base, la.email, "anything"), 403042)
			break
		}
	}
}

func TestLoginLockout(t *testing.T) {
	clk := newFakeClock()
	s, base := startSim(t, Options{Accounts: 60, Seed: 23, LockoutAfter: 3, LockoutFor: 10 * time.Minute, Clock: clk.Now})
	a := firstLoginable(t, s, 0)
	// A success resets the failure count.
	wantCode(t, login(t, s, base, a.email, "wrong"), 403042)
	wantCode(t, login(t, s, base, a.email, "wrong"), 403042)
	wantCode(t, login(t, s, base, a.email, a.password), 0)
	for range 3 {
		wantCode(t, login(t, s, base, a.email, "wrong"), 403042)
	}
	g := login(t, s, base, a.email, a.password)
	wantCode(t, g, 403120)
	until, err := time.Parse(time.RFC3339, g.str("lockedUntil"))
	if err != nil || !until.Equal(clk.Now().Add(10*time.Minute)) {
		t.Fatalf("lockedUntil %q (%v), want %v", g.str("lockedUntil"), err, clk.Now().Add(10*time.Minute))
	}
	// Another account is not affected.
	b := firstLoginable(t, s, 1)
	wantCode(t, login(t, s, base, b.email, b.password), 0)
	clk.Add(9 * time.Minute)
	wantCode(t, login(t, s, base, a.email, a.password), 403120)
	clk.Add(2 * time.Minute)
	wantCode(t, login(t, s, base, a.email, a.password), 0)

	// LockoutAfter < 0: never.
	s2, base2 := startSim(t, Options{Accounts: 60, Seed: 23, LockoutAfter: -1})
	for range 10 {
		wantCode(t, login(t, s2, base2, a.email, "wrong"), 403042)
	}
	wantCode(t, login(t, s2, base2, a.email, a.password), 0)
}

func TestLoginIncludeAndSession(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 60, Seed: 24, KeepTimestampsOnLogin: true})
	a := firstLoginable(t, s, 0)
	g := login(t, s, base, a.email, a.password)
	wantCode(t, g, 0)
	for _, k := range []string{"profile", "data"} {
		if _, ok := g[k]; !ok {
			t.Fatalf("default include lacks %s", k)
		}
	}
	for _, k := range []string{"loginIDs", "emails", "identities", "password", "subscriptions"} {
		if _, ok := g[k]; ok {
			t.Fatalf("default include returned %s", k)
		}
	}
	si := g["sessionInfo"].(map[string]any)
	if si["cookieName"] != "glt_"+s.APIKey() || si["cookieValue"] == nil {
		t.Fatalf("browser sessionInfo %v", si)
	}
	g = login(t, s, base, a.email, a.password, "include", "loginIDs,emails,identities-all,preferences,subscriptions", "targetEnv", "mobile")
	wantCode(t, g, 0)
	for _, k := range []string{"loginIDs", "emails", "identities", "UID", "lastUpdatedTimestamp", "isActive"} {
		if _, ok := g[k]; !ok {
			t.Fatalf("include did not return %s: %v", k, g)
		}
	}
	if _, ok := g["profile"]; ok {
		t.Fatal("profile returned though not included")
	}
}

func TestLoginBumpsTimestamps(t *testing.T) {
	clk := newFakeClock()
	s, base := startSim(t, Options{Accounts: 60, Seed: 25, Clock: clk.Now})
	a := firstLoginable(t, s, 0)
	before := millisOf(t, accountMap(t, s, a.uid)["lastUpdatedTimestamp"])
	g := login(t, s, base, a.email, a.password)
	wantCode(t, g, 0)
	now := clk.Now().UnixMilli()
	if millisOf(t, g["lastUpdatedTimestamp"]) != now || millisOf(t, g["lastLoginTimestamp"]) != now {
		t.Fatalf("login response timestamps %v / %v, want %d", g["lastUpdatedTimestamp"], g["lastLoginTimestamp"], now)
	}
	res := walk(t, s, base, fmt.Sprintf("SELECT UID FROM accounts WHERE lastUpdatedTimestamp > %d", max(before, now-1)))
	if !slices.Equal(uidsOf(res.rows), []string{a.uid}) {
		t.Fatalf("after login, a delta search returned %v", uidsOf(res.rows))
	}
	if _, ok := s.Passwords()[a.uid]; !ok {
		t.Fatal("a login dropped the account from Passwords()")
	}
}

func TestLoginRequireVerification(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 200, Seed: 26, RequireVerification: true})
	for _, a := range loginAccounts(t, s) {
		if a.password != "" && a.active && !a.verified {
			g := login(t, s, base, a.email, a.password)
			wantCode(t, g, 206002)
			if g.str("regToken") == "" {
				t.Fatalf("206002 without regToken: %v", g)
			}
			return
		}
	}
	t.Fatal("sample has no unverified site account")
}

func TestLoginRateAndPasswordsLifecycle(t *testing.T) {
	clk := newFakeClock()
	s, base := startSim(t, Options{Accounts: 60, Seed: 27, LoginRate: 1, Clock: clk.Now})
	a := firstLoginable(t, s, 0)
	wantCode(t, login(t, s, base, a.email, a.password), 0)
	wantCode(t, login(t, s, base, a.email, a.password), 403048)
	if s.Stats().RateLimited != 1 {
		t.Fatalf("RateLimited %d", s.Stats().RateLimited)
	}
	// Changing the hash removes the plaintext; deleting removes the account.
	b := firstLoginable(t, s, 1)
	if err := s.Update(b.uid, func(m map[string]any) {
		m["password"].(map[string]any)["hash"] = "AAAA"
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Passwords()[b.uid]; ok {
		t.Fatal("Passwords() kept a plaintext whose hash changed")
	}
	s.Delete(a.uid)
	if _, ok := s.Passwords()[a.uid]; ok {
		t.Fatal("Passwords() kept a deleted account")
	}
	clk.Add(time.Second)
	wantCode(t, login(t, s, base, a.email, a.password), 403042)
}
