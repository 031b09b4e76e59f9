package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"
)

func TestRunPrintsBannerAndServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-listen", "127.0.0.1:0", "-accounts", "7", "-seed", "2", "-api-key", "3_cmd", "-secret", "s3cret", "-rate", "100", "-cursor-ttl", "1m"}, pw, io.Discard)
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
	if err := run(context.Background(), []string{"-accounts", "x"}, io.Discard, io.Discard); err == nil {
		t.Fatal("bad -accounts accepted")
	}
	if err := run(context.Background(), []string{"extra"}, io.Discard, io.Discard); err == nil {
		t.Fatal("positional argument accepted")
	}
	if err := run(context.Background(), []string{"-accounts", "-1", "-listen", "127.0.0.1:0"}, io.Discard, io.Discard); err == nil {
		t.Fatal("negative -accounts accepted")
	}
}
