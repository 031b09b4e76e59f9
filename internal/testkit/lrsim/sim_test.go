package lrsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
)

func start(t *testing.T, o lrsim.Options) (*lrsim.Sim, string) {
	t.Helper()
	if o.BcryptCost == 0 {
		o.BcryptCost = 4
	}
	sim := lrsim.New(o)
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return sim, base
}

// call sends a request and decodes the JSON answer.
func call(t *testing.T, method, u string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, u, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func bulkURL(base string) string {
	return base + "/v2/bulk/upsert?apikey=sim-api-key&apisecret=sim-api-secret"
}

var mgmt = map[string]string{"X-LoginRadius-ApiKey": "sim-api-key", "X-LoginRadius-ApiSecret": "sim-api-secret"}

// md5("password") = 5f4dcc3b5aa765d61d8327deb882cf99; md5("password"+"salt")
// = b305cadbb3bce54f3aa59c64fec00dea (coreutils md5sum).
const bulk = `{"PasswordEncryption":{"Type":"MD5","IsPerPasswordSalt":true,"SaltAttachType":"Append","PasswordHashEncodingType":"Hex"},
 "Profiles":[
  {"Uid":"u1","Email":[{"Type":"Primary","Value":"Jane@example.com"}],"PasswordHash":"b305cadbb3bce54f3aa59c64fec00dea:salt","IsActive":true},
  {"Uid":"u2","Email":[{"Type":"Primary","Value":"jane@example.com"}]},
  {"Uid":"bad uid","Email":[{"Type":"Primary","Value":"x@example.com"}]},
  {"Uid":"u3","PhoneId":"+4915112345678","CustomFields":{"terms":true}},
  {"Uid":"u4","Identities":[{"Provider":"facebook","ID":"42"}],"PasswordHash":"nocolon"},
  {"Uid":"u5","UserName":"blocked","Email":[{"Type":"Primary","Value":"b@example.com"}],"PasswordHash":"b305cadbb3bce54f3aa59c64fec00dea:salt","IsActive":false}
 ]}`

func TestBulkUpsertAndLogin(t *testing.T) {
	sim, base := start(t, lrsim.Options{})
	code, out := call(t, "POST", bulkURL(base), nil, bulk)
	if code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	p := out["Profile"].(map[string]any)
	if p["RecordInserted"] != 2.0 || p["RecordUpdated"] != 0.0 {
		t.Fatalf("profile %v", p)
	}
	failed := map[string]float64{}
	for _, f := range p["Failed"].([]any) {
		m := f.(map[string]any)
		failed[m["Uid"].(string)] = m["ErrorCode"].(float64)
		if m["Message"] == "" || m["Description"] == "" {
			t.Errorf("failed item without message: %v", m)
		}
	}
	want := map[string]float64{"u2": 936, "bad uid": 1200, "u3": 1134, "u4": 1134}
	if len(failed) != len(want) {
		t.Fatalf("failed %v, want %v", failed, want)
	}
	for uid, c := range want {
		if failed[uid] != c {
			t.Errorf("%s failed with %v, want %v", uid, failed[uid], c)
		}
	}
	if ok, err := sim.Login("JANE@example.com", "password"); !ok || err != nil {
		t.Fatalf("login: %v %v", ok, err)
	}
	if ok, _ := sim.Login("jane@example.com", "passwordx"); ok {
		t.Fatal("a wrong password logs in")
	}
	if _, err := sim.Login("blocked", "password"); err != lrsim.ErrBlocked {
		t.Fatalf("blocked user: %v", err)
	}
	// The same request again: updated, not duplicated.
	_, out = call(t, "POST", bulkURL(base), nil, bulk)
	if p := out["Profile"].(map[string]any); p["RecordUpdated"] != 2.0 || p["RecordInserted"] != 0.0 || len(sim.Users()) != 2 {
		t.Fatalf("again: %v, %d users", p, len(sim.Users()))
	}
	// The login endpoint.
	code, out = call(t, "POST", base+"/identity/v2/auth/login?apikey=sim-api-key", nil, `{"email":"jane@example.com","password":"password"}`)
	if code != 200 || out["access_token"] == "" || out["Profile"].(map[string]any)["Uid"] != "u1" {
		t.Fatalf("login endpoint: %d %v", code, out)
	}
	code, out = call(t, "POST", base+"/identity/v2/auth/login?apikey=sim-api-key", nil, `{"email":"jane@example.com","password":"nope"}`)
	if code != 401 || out["ErrorCode"] != 966.0 {
		t.Fatalf("wrong password: %d %v", code, out)
	}
	code, out = call(t, "POST", base+"/identity/v2/auth/login?apikey=sim-api-key", nil, `{"username":"blocked","password":"password"}`)
	if code != 403 || out["ErrorCode"] != 991.0 {
		t.Fatalf("blocked: %d %v", code, out)
	}
	st := sim.Stats()
	if st.BulkRequests != 2 || st.Inserted != 2 || st.Updated != 2 || st.Failed != 8 || st.BulkEncryptions != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBulkErrors(t *testing.T) {
	sim, base := start(t, lrsim.Options{MaxRequestBytes: 200})
	cases := []struct {
		name, url, body string
		status          int
		code            float64
	}{
		{"no secret", base + "/v2/bulk/upsert?apikey=sim-api-key", `{"Profiles":[{}]}`, 401, 6002},
		{"not JSON", bulkURL(base), `{`, 400, 7914},
		{"unknown member", bulkURL(base), `{"Profiles":[{}],"Users":[]}`, 400, 7914},
		{"no profiles", bulkURL(base), `{"Profiles":[]}`, 400, 7914},
		{"bad encryption", bulkURL(base), `{"PasswordEncryption":{"Type":"ROT13"},"Profiles":[{}]}`, 400, 1134},
		{"too large", bulkURL(base), `{"Profiles":[{"Uid":"` + strings.Repeat("x", 300) + `"}]}`, 413, 7914},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := call(t, "POST", c.url, nil, c.body)
			if code != c.status || out["ErrorCode"] != c.code || out["Description"] == "" {
				t.Fatalf("%d %v", code, out)
			}
		})
	}
	sim.Inject(lrsim.FaultRateLimit, 1)
	sim.Inject(lrsim.Fault500, 1)
	code, out := call(t, "POST", bulkURL(base), nil, `{"Profiles":[{}]}`)
	if code != 429 || out["ErrorCode"] != 429.0 {
		t.Fatalf("429: %d %v", code, out)
	}
	code, out = call(t, "POST", bulkURL(base), nil, `{"Profiles":[{}]}`)
	if code != 500 || out["ErrorCode"] != 950.0 {
		t.Fatalf("500: %d %v", code, out)
	}
}

func TestRateLimit(t *testing.T) {
	sim, base := start(t, lrsim.Options{Rate: -1, Burst: 2})
	for i, want := range []int{200, 200, 429} {
		code, _ := call(t, "GET", base+"/identity/v2/auth/email?apikey=sim-api-key&email=a@example.com", nil, "")
		if code != want {
			t.Fatalf("request %d: %d, want %d", i, code, want)
		}
	}
	if sim.Stats().Rejected429 != 1 {
		t.Fatalf("stats %+v", sim.Stats())
	}
}

func TestAccountAPIs(t *testing.T) {
	sim, base := start(t, lrsim.Options{})
	acct := base + "/identity/v2/manage/account"
	code, out := call(t, "POST", acct, mgmt, `{"Uid":"a1","Email":[{"Type":"Primary","Value":"a@example.com"}],"Password":"s3cret","FirstName":"A"}`)
	if code != 200 || out["Uid"] != "a1" || out["Password"] != nil {
		t.Fatalf("create: %d %v", code, out)
	}
	if code, out = call(t, "POST", acct, mgmt, `{"Uid":"a2","Email":[{"Type":"Primary","Value":"A@example.com"}]}`); code != 403 || out["ErrorCode"] != 936.0 {
		t.Fatalf("duplicate email: %d %v", code, out)
	}
	if code, out = call(t, "POST", acct, mgmt, `{"Uid":"a1","Email":[{"Type":"Primary","Value":"other@example.com"}]}`); code != 403 {
		t.Fatalf("duplicate uid: %d %v", code, out)
	}
	if code, out = call(t, "POST", acct, mgmt, `{"Email":[{"Type":"Primary","Value":"h@example.com"}],"PasswordHash":"x"}`); code != 400 {
		t.Fatalf("hash through the Account API: %d %v", code, out)
	}
	if code, out = call(t, "POST", acct, map[string]string{"X-LoginRadius-ApiKey": "sim-api-key"}, `{}`); code != 401 || out["ErrorCode"] != 902.0 {
		t.Fatalf("no secret: %d %v", code, out)
	}
	if code, out = call(t, "POST", acct, nil, `{}`); code != 400 || out["ErrorCode"] != 922.0 {
		t.Fatalf("no key: %d %v", code, out)
	}
	if code, out = call(t, "GET", acct+"/a1", mgmt, ""); code != 200 || out["FirstName"] != "A" {
		t.Fatalf("get: %d %v", code, out)
	}
	if code, out = call(t, "GET", acct+"/nobody", mgmt, ""); code != 403 || out["ErrorCode"] != 938.0 {
		t.Fatalf("get missing: %d %v", code, out)
	}
	if code, out = call(t, "GET", acct+"?email="+url.QueryEscape("A@example.com"), mgmt, ""); code != 200 || out["Uid"] != "a1" {
		t.Fatalf("by email: %d %v", code, out)
	}
	if code, out = call(t, "PUT", acct+"/a1", mgmt, `{"FirstName":"B"}`); code != 200 || out["IsPosted"] != true {
		t.Fatalf("update: %d %v", code, out)
	}
	if u, _ := sim.User("a1"); u["FirstName"] != "B" {
		t.Fatalf("updated %v", u)
	}
	if code, _ = call(t, "PUT", acct+"/nobody", mgmt, `{"FirstName":"B"}`); code != 403 {
		t.Fatalf("update missing: %d", code)
	}
	if ok, _ := sim.Login("a@example.com", "s3cret"); !ok {
		t.Fatal("the created password does not log in")
	}
	for q, want := range map[string]bool{"email?email=a@example.com": true, "email?email=z@example.com": false} {
		if code, out = call(t, "GET", base+"/identity/v2/auth/"+q+"&apikey=sim-api-key", nil, ""); code != 200 || out["IsExist"] != want {
			t.Fatalf("%s: %d %v", q, code, out)
		}
	}
	// Forgot and reset, then set by the admin.
	if code, out = call(t, "POST", base+"/identity/v2/auth/password?apikey=sim-api-key&resetPasswordUrl=https://x", nil, `{"email":"a@example.com"}`); code != 200 || out["IsPosted"] != true {
		t.Fatalf("forgot: %d %v", code, out)
	}
	tok, _ := sim.ResetToken("a@example.com")
	if code, _ = call(t, "PUT", base+"/identity/v2/auth/password/reset?apikey=sim-api-key", nil, `{"resettoken":"`+tok+`","password":"n3w"}`); code != 200 {
		t.Fatalf("reset: %d", code)
	}
	if code, out = call(t, "PUT", base+"/identity/v2/auth/password/reset?apikey=sim-api-key", nil, `{"resettoken":"`+tok+`","password":"again"}`); code != 403 || out["ErrorCode"] != 979.0 {
		t.Fatalf("reused token: %d %v", code, out)
	}
	if ok, _ := sim.Login("a@example.com", "n3w"); !ok {
		t.Fatal("the reset password does not log in")
	}
	if code, _ = call(t, "PUT", acct+"/a1/password", mgmt, `{"password":"admin-set"}`); code != 200 {
		t.Fatalf("set password: %d", code)
	}
	if ok, _ := sim.Login("a@example.com", "admin-set"); !ok {
		t.Fatal("the set password does not log in")
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(sim.Stats())
	t.Logf("stats %s", buf.String())
}

func TestRetryAfterFault(t *testing.T) {
	sim, base := start(t, lrsim.Options{RetryAfter: 3})
	sim.Inject(lrsim.FaultRateLimitRetryAfter, 1)
	sim.Inject(lrsim.FaultRateLimit, 1)
	var got []string
	for range 3 {
		resp, err := http.Post(bulkURL(base), "application/json", strings.NewReader(`{"Profiles":[{"Uid":"r1","Email":[{"Type":"Primary","Value":"r1@example.com"}]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, fmt.Sprintf("%d %q", resp.StatusCode, resp.Header.Get("Retry-After")))
	}
	// The plain 429 fires first (armed faults fire in a fixed order), then
	// the one with the header, then the request passes.
	want := []string{`429 ""`, `429 "3"`, `200 ""`}
	if !slices.Equal(got, want) {
		t.Fatalf("answers %v, want %v", got, want)
	}
	st := sim.Stats()
	if st.Faults[lrsim.FaultRateLimit] != 1 || st.Faults[lrsim.FaultRateLimitRetryAfter] != 1 || st.Injected != 2 || st.Rejected429 != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLostAnswer: the profiles are stored, the client gets no answer.
func TestLostAnswer(t *testing.T) {
	sim, base := start(t, lrsim.Options{})
	sim.Inject(lrsim.FaultLostAnswer, 1)
	resp, err := http.Post(bulkURL(base), "application/json", strings.NewReader(`{"Profiles":[{"Uid":"l1","Email":[{"Type":"Primary","Value":"l1@example.com"}]}]}`))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("an answer came: %d", resp.StatusCode)
	}
	if _, ok := sim.User("l1"); !ok {
		t.Fatal("the profile of the request whose answer was lost is not stored")
	}
	// Sent again, it is an update.
	code, out := call(t, "POST", bulkURL(base), nil, `{"Profiles":[{"Uid":"l1","Email":[{"Type":"Primary","Value":"l1@example.com"}]}]}`)
	if p := out["Profile"].(map[string]any); code != 200 || p["RecordUpdated"] != 1.0 {
		t.Fatalf("again: %d %v", code, out)
	}
	if st := sim.Stats(); st.Faults[lrsim.FaultLostAnswer] != 1 || st.Inserted != 1 || st.Updated != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestSlowFault: a held request is in flight for SlowDelay, and is stored
// when the delay ends even though its client gave up.
func TestSlowFault(t *testing.T) {
	sim, base := start(t, lrsim.Options{SlowDelay: time.Second})
	sim.Inject(lrsim.FaultSlow, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", bulkURL(base), strings.NewReader(`{"Profiles":[{"Uid":"s1","Email":[{"Type":"Primary","Value":"s1@example.com"}]}]}`))
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for sim.Stats().Held == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request never was in flight")
		}
		time.Sleep(time.Millisecond) // polling period
	}
	cancel() // the client gives up (or dies) while the server holds it
	if err := <-errc; err == nil {
		t.Fatal("the cancelled request got an answer")
	}
	if _, ok := sim.User("s1"); ok {
		t.Fatal("stored before the delay ended")
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		if _, ok := sim.User("s1"); ok && sim.Stats().InFlight == 0 && sim.Stats().Held == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the held request was not processed after its client left: %+v", sim.Stats())
		}
		time.Sleep(5 * time.Millisecond) // polling period
	}
	if st := sim.Stats(); st.Faults[lrsim.FaultSlow] != 1 || st.Inserted != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRefuse: a refused Uid is in Failed with its code, in every request,
// and through the Account APIs; the other profiles are stored.
func TestRefuse(t *testing.T) {
	var writes []string
	var mu sync.Mutex
	sim, base := start(t, lrsim.Options{OnWrite: func(uid string, p map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		writes = append(writes, fmt.Sprintf("%s:%v", uid, p["FirstName"]))
	}})
	sim.Refuse("x1", 1017)
	sim.Refuse("x2", 4242)
	body := `{"Profiles":[{"Uid":"x1","Email":[{"Type":"Primary","Value":"x1@example.com"}]},
		{"Uid":"ok","FirstName":"A","Email":[{"Type":"Primary","Value":"ok@example.com"}]},
		{"Uid":"x2","Email":[{"Type":"Primary","Value":"x2@example.com"}]}]}`
	for range 2 {
		code, out := call(t, "POST", bulkURL(base), nil, body)
		if code != 200 {
			t.Fatalf("%d %v", code, out)
		}
		failed := map[string]float64{}
		for _, f := range out["Profile"].(map[string]any)["Failed"].([]any) {
			m := f.(map[string]any)
			failed[m["Uid"].(string)] = m["ErrorCode"].(float64)
			if m["Message"] == "" {
				t.Errorf("no message: %v", m)
			}
		}
		if len(failed) != 2 || failed["x1"] != 1017 || failed["x2"] != 4242 {
			t.Fatalf("failed %v", failed)
		}
	}
	if code, out := call(t, "POST", base+"/identity/v2/manage/account", mgmt, `{"Uid":"x1","Email":[{"Type":"Primary","Value":"x1@example.com"}]}`); code != 403 || out["ErrorCode"] != 1017.0 {
		t.Fatalf("create of a refused Uid: %d %v", code, out)
	}
	if code, _ := call(t, "PUT", base+"/identity/v2/manage/account/ok", mgmt, `{"FirstName":"B"}`); code != 200 {
		t.Fatalf("update: %d", code)
	}
	sim.Refuse("ok", 1134)
	if code, out := call(t, "PUT", base+"/identity/v2/manage/account/ok", mgmt, `{"FirstName":"C"}`); code != 403 || out["ErrorCode"] != 1134.0 {
		t.Fatalf("update of a refused Uid: %d %v", code, out)
	}
	sim.Refuse("x1", 0)
	if code, _ := call(t, "POST", base+"/identity/v2/manage/account", mgmt, `{"Uid":"x1","Email":[{"Type":"Primary","Value":"x1@example.com"}]}`); code != 200 {
		t.Fatalf("create after the refusal was lifted: %d", code)
	}
	if st := sim.Stats(); st.Refused != 6 || st.Inserted != 1 || st.Updated != 1 || st.Creates != 1 || st.Updates != 1 {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"ok:A", "ok:A", "ok:B", "x1:<nil>"}; !slices.Equal(writes, want) {
		t.Fatalf("writes %v, want %v", writes, want)
	}
}
