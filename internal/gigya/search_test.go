package gigya

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

func TestPageDone(t *testing.T) {
	row := []json.RawMessage{json.RawMessage(`{"UID":"a"}`)}
	tests := []struct {
		name string
		p    Page
		want bool
	}{
		{"rows and cursor", Page{Results: row, NextCursorID: "c"}, false},
		{"rows without cursor", Page{Results: row}, true},
		{"empty page with cursor", Page{NextCursorID: "c"}, true},
		{"empty page", Page{}, true},
	}
	for _, tt := range tests {
		if got := tt.p.Done(); got != tt.want {
			t.Errorf("%s: Done() = %t, want %t", tt.name, got, tt.want)
		}
	}
}

// TestSearchPaging pages through three answers, the last an empty page
// that still carries a cursor, and checks the results are Gigya's bytes.
func TestSearchPaging(t *testing.T) {
	rowA := `{ "UID" : "a",  "profile":{"email":"a@x.test"}, "lastUpdatedTimestamp": 1706781600000 }`
	rowB := `{"UID":"b","data":{"n":1.50}}`
	s := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int, form url.Values) {
		switch n {
		case 0:
			answer(w, `{"statusCode":200,"errorCode":0,"results":[`+rowA+`],"objectsCount":1,"totalCount":2,"nextCursorId":"c1"}`)
		case 1:
			answer(w, `{"statusCode":200,"errorCode":0,"results":[`+rowB+`],"objectsCount":1,"totalCount":2,"nextCursorId":"c2"}`)
		default:
			answer(w, `{"statusCode":200,"errorCode":0,"results":[],"objectsCount":0,"totalCount":2,"nextCursorId":"c3"}`)
		}
	})
	c, _ := newTestClient(t, testConfig(s.URL))
	ctx := context.Background()
	q := BuildQuery(DefaultFields(), FromAccounts, "lastUpdatedTimestamp >= 0", 1000)
	p, err := c.Search(ctx, q, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for pages := 1; ; pages++ {
		if pages > 5 {
			t.Fatal("paging did not stop at the empty page")
		}
		for _, r := range p.Results {
			got = append(got, string(r))
		}
		if p.Done() {
			break
		}
		if p, err = c.SearchNext(ctx, p.NextCursorID); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, []string{rowA, rowB}) {
		t.Fatalf("results %q", got)
	}
	if p.TotalCount != 2 || p.ObjectsCount != 0 || p.NextCursorID != "c3" {
		t.Fatalf("last page %+v", p)
	}
	reqs := s.requests()
	if len(reqs) != 3 || reqs[0].Form.Get("query") != q || reqs[1].Form.Get("cursorId") != "c1" || reqs[2].Form.Get("cursorId") != "c2" {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestSearchObjectsCountFallback(t *testing.T) {
	s := newServer(t, sequence(`{"statusCode":200,"errorCode":0,"results":[{"UID":"a"},{"UID":"b"}]}`))
	c, _ := newTestClient(t, testConfig(s.URL))
	p, err := c.Search(context.Background(), "SELECT UID FROM accounts", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.ObjectsCount != 2 || !p.Done() {
		t.Fatalf("page %+v", p)
	}
}

func TestSearchNextCursorExpired(t *testing.T) {
	s := newServer(t, sequence(`{"statusCode":400,"errorCode":400006,"errorMessage":"Invalid parameter value","errorDetails":"Invalid cursorId","callId":"x"}`))
	c, _ := newTestClient(t, testConfig(s.URL))
	_, err := c.SearchNext(context.Background(), "old")
	if !errors.Is(err, ErrCursorExpired) {
		t.Fatalf("err = %v, want ErrCursorExpired", err)
	}
	wantFault(t, err, fault.KindPermanent, CodeCursorExpired)
	if n := len(s.requests()); n != 1 {
		t.Fatalf("expired cursor sent %d times", n)
	}
	// The same code on the query request is a plain permanent error.
	_, err = c.Search(context.Background(), "SELECT bad", "")
	if errors.Is(err, ErrCursorExpired) {
		t.Fatal("400006 on a query request matched ErrCursorExpired")
	}
	wantFault(t, err, fault.KindPermanent, "gigya_400006")
}

func TestSearchRejectsEmptyQuery(t *testing.T) {
	s := newServer(t, sequence(okBody))
	c, _ := newTestClient(t, testConfig(s.URL))
	_, err := c.Search(context.Background(), " ", "")
	wantFault(t, err, fault.KindPermanent, CodeInvalidRequest)
	if len(s.requests()) != 0 {
		t.Fatal("empty query sent")
	}
}

func TestBuildQuery(t *testing.T) {
	tests := []struct {
		fields []string
		from   string
		where  string
		limit  int
		want   string
	}{
		{nil, "", "", 0, "SELECT * FROM accounts ORDER BY lastUpdatedTimestamp"},
		{[]string{"UID", "profile"}, FromAccounts, "", 1000, "SELECT UID, profile FROM accounts ORDER BY lastUpdatedTimestamp LIMIT 1000"},
		{[]string{"*"}, FromAccounts, "lastUpdatedTimestamp >= 1706781600000", 500,
			"SELECT * FROM accounts WHERE lastUpdatedTimestamp >= 1706781600000 ORDER BY lastUpdatedTimestamp LIMIT 500"},
		{[]string{"UID"}, FromEmailAccounts, ` hasLiteAccount = true AND profile.email = "a@b.c" `, 10,
			`SELECT UID FROM emailAccounts WHERE hasLiteAccount = true AND profile.email = "a@b.c" ORDER BY lastUpdatedTimestamp LIMIT 10`},
		{[]string{"UID"}, "", "  ", -1, "SELECT UID FROM accounts ORDER BY lastUpdatedTimestamp"},
	}
	for _, tt := range tests {
		if got := BuildQuery(tt.fields, tt.from, tt.where, tt.limit); got != tt.want {
			t.Errorf("BuildQuery(%q, %q, %q, %d) =\n%s\nwant\n%s", tt.fields, tt.from, tt.where, tt.limit, got, tt.want)
		}
	}
}

func TestDefaultFields(t *testing.T) {
	f := DefaultFields()
	for _, want := range []string{
		"UID", "profile", "data", "loginIDs", "emails", "identities", "password", "preferences", "subscriptions",
		"created", "createdTimestamp", "lastUpdated", "lastUpdatedTimestamp", "lastLogin", "lastLoginTimestamp",
		"registered", "registeredTimestamp", "verified", "verifiedTimestamp", "oldestDataUpdated", "oldestDataUpdatedTimestamp",
		"isActive", "isRegistered", "isVerified", "isLockedOut", "lockedUntil", "loginProvider", "socialProviders",
		"regSource", "phoneNumber", "hasLiteAccount", "hasFullAccount",
	} {
		if !slices.Contains(f, want) {
			t.Errorf("DefaultFields lacks %s", want)
		}
	}
	seen := map[string]bool{}
	for _, x := range f {
		if seen[x] || strings.ContainsAny(x, " ,") {
			t.Errorf("field %q duplicated or malformed", x)
		}
		seen[x] = true
	}
	f[0] = "changed"
	if DefaultFields()[0] != "UID" {
		t.Error("DefaultFields shares its slice")
	}
}
