package gigya_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

const fuzzSecret = "fuzz-secret-7c1e"

// FuzzSearchResponse feeds arbitrary answers (status and body) to the
// client's accounts.search: whatever Gigya or a proxy in front of it sends,
// the client returns a page or a classified error, never panics, never
// repeats the secret (a server echoing it is scrubbed), and every account
// of a page it accepts is valid JSON.
func FuzzSearchResponse(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, `{"errorCode":0,"statusCode":200,"results":[{"UID":"u1","lastUpdatedTimestamp":1}],"objectsCount":1,"totalCount":3,"nextCursorID":"c1"}`},
		{200, `{"errorCode":0,"statusCode":200,"results":[],"totalCount":0}`},
		{200, `{"errorCode":403048,"statusCode":403,"errorMessage":"Rate limit exceeded"}`},
		{200, `{"errorCode":400006,"statusCode":400,"errorMessage":"Invalid parameter value","errorDetails":"cursorId expired"}`},
		{200, `{"errorCode":403003,"statusCode":403,"errorMessage":"Invalid request signature","errorDetails":"secret ` + fuzzSecret + ` is wrong"}`},
		{200, `{"errorCode":301001,"statusCode":301,"errorMessage":"Invalid data center","apiDomain":"eu1.gigya.com"}`},
		{200, `{"errorCode":0,"results":[{"UID":"u1"`},
		{502, `<html><body>Bad Gateway</body></html>`},
		{200, `{"errorCode":0,"results":{"not":"an array"}}`},
		{200, `{"errorCode":"0","results":[]}`},
		{429, ``},
	} {
		f.Add(seed.status, []byte(seed.body))
	}
	var mu sync.Mutex
	var status int
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		s, b := status, body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s)
		_, _ = w.Write(b)
	}))
	f.Cleanup(srv.Close)
	client, err := gigya.NewClient(gigya.Config{
		BaseURL: srv.URL, AllowHTTP: true, APIKey: "3_fuzz", UserKey: "fuzzuser", Secret: fuzzSecret,
		Timeout: 5 * time.Second, Rate: 1e6, MaxRetries: -1,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, st int, b []byte) {
		if st < 100 || st > 599 {
			st = 200 + (st%400+400)%400 // a status the HTTP server can send
		}
		mu.Lock()
		status, body = st, b
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		page, err := client.Search(ctx, "SELECT * FROM accounts", "")
		if err != nil {
			if strings.Contains(err.Error(), fuzzSecret) {
				t.Fatalf("the secret is in the error: %v", err)
			}
			kind, code := fault.Classify(err)
			if code == "" || (kind != fault.KindTransient && kind != fault.KindPermanent) {
				t.Fatalf("unclassified error (kind %v, code %q): %v", kind, code, err)
			}
			if len(page.Results) != 0 {
				t.Fatalf("an error with %d results", len(page.Results))
			}
			return
		}
		for i, r := range page.Results {
			if !json.Valid(r) {
				t.Fatalf("result %d is not JSON: %q", i, r)
			}
		}
	})
}
