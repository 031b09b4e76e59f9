package gigya

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

func TestFindAccount(t *testing.T) {
	row := `{"UID":"u1","profile":{"email":"a@x.test"}}`
	s := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int, form url.Values) {
		switch n {
		case 0:
			answer(w, `{"statusCode":200,"errorCode":0,"results":[`+row+`],"objectsCount":1,"totalCount":1}`)
		case 1:
			answer(w, `{"statusCode":200,"errorCode":0,"results":[],"objectsCount":0,"totalCount":0}`)
		default:
			answer(w, `{"statusCode":200,"errorCode":0,"results":[`+row+`,`+row+`],"objectsCount":2,"totalCount":2}`)
		}
	})
	c, _ := newTestClient(t, testConfig(s.URL))
	ctx := context.Background()
	acc, err := c.FindAccount(ctx, "loginIDs.emails", "A@x.test", LookupFields())
	if err != nil || string(acc) != row {
		t.Fatalf("found %s, %v", acc, err)
	}
	r := s.requests()[0]
	want := `SELECT ` + strings.Join(LookupFields(), ", ") + ` FROM accounts WHERE loginIDs.emails = "A@x.test" ORDER BY lastUpdatedTimestamp LIMIT 2`
	if r.Path != "/accounts.search" || r.Form.Get("query") != want || r.Form.Has("openCursor") || r.Form.Get("secret") != testSecret {
		t.Fatalf("search form %v\nwant query %s", r.Form, want)
	}
	if slices.Contains(LookupFields(), "password") {
		t.Fatal("LookupFields selects the password")
	}
	if _, err := c.FindAccount(ctx, "loginIDs.emails", "b@x.test", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no match: %v", err)
	} else {
		wantFault(t, err, fault.KindPermanent, CodeNotFound)
	}
	if _, err := c.FindAccount(ctx, "profile.email", "a@x.test", nil); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("two matches: %v", err)
	} else {
		wantFault(t, err, fault.KindPermanent, CodeAmbiguous)
	}
	for _, bad := range []struct{ field, value string }{
		{"loginIDs.emails", `a"@x.test`},
		{"loginIDs.emails", `a\@x.test`},
		{"loginIDs.emails", "a@x.test\n OR 1=1"},
		{"loginIDs.emails", " "},
		{`loginIDs.emails = "x" OR UID`, "a@x.test"},
		{"", "a@x.test"},
		{"a..b", "a@x.test"},
	} {
		if _, err := c.FindAccount(ctx, bad.field, bad.value, nil); err == nil {
			t.Errorf("FindAccount(%q, %q) was sent", bad.field, bad.value)
		} else {
			wantFault(t, err, fault.KindPermanent, CodeInvalidRequest)
		}
	}
	if n := len(s.requests()); n != 3 {
		t.Fatalf("%d requests, want 3 (refused values are never sent)", n)
	}
}
