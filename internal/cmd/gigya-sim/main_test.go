package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"
)

func TestRunPrintsBannerAndServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-listen", "127.0.0.1:0", "-accounts", "7", "-seed", "2", "-api-key", "3_cmd", "-secret", "s3cret", "-rate", "100", "-cursor-ttl", "1m"}, "", pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("read banner: %v", err)
	}
	var b banner
	if err := json.Unmarshal([]byte(line), &b); err != nil {
		t.Fatalf("banner %q: %v", line, err)
	}
	if !strings.HasPrefix(b.BaseURL, "http://127.0.0.1:") || b.APIKey != "3_cmd" || b.Secret != "s3cret" || b.Accounts != 7 || b.Seed != 2 {
		t.Fatalf("banner %+v", b)
	}
	form := url.Values{"apiKey": {b.APIKey}, "secret": {b.Secret}, "query": {"SELECT UID FROM accounts"}, "accountTypes": {"full,lite"}, "format": {"json"}}
	resp, err := http.PostForm(b.BaseURL+"/accounts.search", form)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		ErrorCode  int `json:"errorCode"`
		TotalCount int `json:"totalCount"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || out.ErrorCode != 0 || out.TotalCount != 7 {
		t.Fatalf("search: %+v, %v", out, err)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop on cancel")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-accounts", "x"}, "", io.Discard, io.Discard); err == nil {
		t.Fatal("bad -accounts accepted")
	}
	if err := run(context.Background(), []string{"extra"}, "", io.Discard, io.Discard); err == nil {
		t.Fatal("positional argument accepted")
	}
	if err := run(context.Background(), []string{"-accounts", "-1", "-listen", "127.0.0.1:0"}, "", io.Discard, io.Discard); err == nil {
		t.Fatal("negative -accounts accepted")
	}
}

// TestRunUserKeys registers user keys from the flag and the environment,
// signs a request with one of them, and checks that no user-key secret
// reaches the banner or the log.
func TestRunUserKeys(t *testing.T) {
	const flagSecret, envSecret = "ZmxhZy1zZWNyZXQ=", "ZW52LXNlY3JldA=="
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var logs strings.Builder
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-listen", "127.0.0.1:0", "-accounts", "2", "-user-key", "FlagKey=" + flagSecret, "-user-key", "Plain=not-base64"},
			"EnvKey="+envSecret+", Other=b3RoZXI=", pw, &lockedWriter{w: &logs})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("read banner: %v", err)
	}
	go io.Copy(io.Discard, pr)
	var b banner
	if err := json.Unmarshal([]byte(line), &b); err != nil {
		t.Fatal(err)
	}
	if want := []string{"EnvKey", "FlagKey", "Other", "Plain"}; strings.Join(b.UserKeys, ",") != strings.Join(want, ",") {
		t.Fatalf("banner user keys %v, want %v", b.UserKeys, want)
	}
	for _, secret := range []string{flagSecret, envSecret, "not-base64", "b3RoZXI="} {
		if strings.Contains(line, secret) {
			t.Fatalf("banner shows a user-key secret: %s", line)
		}
	}

	search := func(userKey, secret string) int {
		t.Helper()
		form := url.Values{"apiKey": {b.APIKey}, "userKey": {userKey}, "query": {"SELECT UID FROM accounts"}, "format": {"json"},
			"nonce": {"1"}, "timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}}
		form.Set("sig", sign(t, secret, "https://accounts.us1.gigya.com/accounts.search", form))
		resp, err := http.PostForm(b.BaseURL+"/accounts.search", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			ErrorCode int `json:"errorCode"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.ErrorCode
	}
	if code := search("FlagKey", flagSecret); code != 0 {
		t.Fatalf("signed with the -user-key secret: errorCode %d", code)
	}
	if code := search("EnvKey", envSecret); code != 0 {
		t.Fatalf("signed with the %s secret: errorCode %d", userKeysEnv, code)
	}
	if code := search("EnvKey", flagSecret); code != 403003 {
		t.Fatalf("signed with the wrong secret: errorCode %d, want 403003", code)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop on cancel")
	}
	log := logs.String()
	if !strings.Contains(log, "user key Plain: the secret is not base64") || !strings.Contains(log, "user keys: 4") {
		t.Fatalf("log %q", log)
	}
	for _, secret := range []string{flagSecret, envSecret, "not-base64", "b3RoZXI="} {
		if strings.Contains(log, secret) {
			t.Fatalf("log shows a user-key secret: %s", log)
		}
	}
}

func TestRunRejectsBadUserKeys(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  string
	}{
		{[]string{"-user-key", "nosecret"}, ""},
		{[]string{"-user-key", "=s"}, ""},
		{[]string{"-user-key", "K=a", "-user-key", "K=b"}, ""},
		{nil, "K=a,broken"},
		{[]string{"-user-key", "K=a"}, "K=b"},
	} {
		var logs strings.Builder
		err := run(context.Background(), append(c.args, "-listen", "127.0.0.1:0", "-accounts", "0"), c.env, io.Discard, &logs)
		if err == nil {
			t.Errorf("%v %q accepted", c.args, c.env)
		}
		if strings.Contains(logs.String()+err.Error(), "secret=") {
			t.Errorf("the error echoes the pair: %v", err)
		}
	}
}

// sign is a Gigya request signature (docs/apis/gigya.md, "Signed requests"),
// computed here independently of package gigyasim.
func sign(t *testing.T, secret, rawURL string, form url.Values) string {
	t.Helper()
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	pairs := make([]string, len(names))
	for i, k := range names {
		pairs[i] = k + "=" + enc(form.Get(k))
	}
	key, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha1.New, key)
	m.Write([]byte("POST&" + enc(rawURL) + "&" + enc(strings.Join(pairs, "&"))))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// lockedWriter serializes writes: run logs from its goroutine while the
// test reads the log at the end.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
