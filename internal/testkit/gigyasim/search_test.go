package gigyasim

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
)

func TestPagingBoundaries(t *testing.T) {
	const page = 7
	for _, n := range []int{0, 1, page - 1, page, page + 1, 10*page + 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s, base := startSim(t, Options{Accounts: n, Seed: 3})
			res := walk(t, s, base, fmt.Sprintf("SELECT * FROM accounts LIMIT %d", page), "accountTypes", "full,lite")
			if res.total != n || len(res.rows) != n {
				t.Fatalf("totalCount %d, rows %d, want %d", res.total, len(res.rows), n)
			}
			wantPages := max(1, (n+page-1)/page)
			if len(res.pages) != wantPages {
				t.Fatalf("pages %v, want %d pages", res.pages, wantPages)
			}
			for i, p := range res.pages {
				want := page
				if i == len(res.pages)-1 {
					want = n - page*(wantPages-1)
				}
				if p != want {
					t.Fatalf("page %d holds %d, want %d (pages %v)", i, p, want, res.pages)
				}
			}
			got := uidsOf(res.rows)
			if !slices.Equal(got, s.UIDs()) {
				t.Fatalf("walk returned %v, want every account once in index order %v", got, s.UIDs())
			}
		})
	}
}

func TestDefaultAndMaxPageSize(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 1001, Seed: 4})
	all := "accountTypes"
	res := walk(t, s, base, "SELECT UID FROM accounts", all, "full,lite")
	if !slices.Equal(res.pages, []int{300, 300, 300, 101}) {
		t.Fatalf("pages without LIMIT %v, want 300-account pages", res.pages)
	}
	res = walk(t, s, base, "SELECT UID FROM accounts LIMIT 5000", all, "full,lite")
	if !slices.Equal(res.pages, []int{1000, 1}) {
		t.Fatalf("pages with LIMIT 5000 %v, want clamped to 1000", res.pages)
	}
	// Without openCursor: one page, no cursor, totalCount of every match.
	g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT UID FROM accounts LIMIT 10", all, "full,lite"), nil)
	wantCode(t, g, 0)
	if g.int("objectsCount") != 10 || g.int("totalCount") != 1001 || g["nextCursorId"] != nil {
		t.Fatalf("no-cursor search: %d objects of %d, next %v", g.int("objectsCount"), g.int("totalCount"), g["nextCursorId"])
	}
	g = callAPI(t, base, "accounts.search", partner(s, "query", "SELECT UID FROM accounts", all, "full,lite"), nil)
	if g.int("objectsCount") != 300 {
		t.Fatalf("no-cursor search without LIMIT returned %d, want 300", g.int("objectsCount"))
	}
	g = callAPI(t, base, "accounts.search", partner(s, "query", "SELECT UID FROM accounts LIMIT 0", "openCursor", "true"), nil)
	wantCode(t, g, 400006)
}

func TestFieldSelection(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 60, Seed: 5})
	res := walk(t, s, base, "select profile.email, isActive, identities.provider from accounts limit 25")
	if len(res.rows) == 0 {
		t.Fatal("no rows")
	}
	sawEmail, sawIdentities := false, false
	for _, row := range res.rows {
		uid, ok := row["UID"].(string)
		if !ok {
			t.Fatalf("UID missing from a field selection: %v", row)
		}
		full := accountMap(t, s, uid)
		for k := range row {
			if k != "UID" && k != "profile" && k != "isActive" && k != "identities" {
				t.Fatalf("unselected key %q in %v", k, row)
			}
		}
		if prof, ok := row["profile"].(map[string]any); ok {
			if len(prof) != 1 {
				t.Fatalf("profile should only hold email: %v", prof)
			}
			if prof["email"] != full["profile"].(map[string]any)["email"] {
				t.Fatalf("profile.email %v, stored %v", prof["email"], full["profile"])
			}
			sawEmail = true
		}
		if row["isActive"] != full["isActive"] {
			t.Fatalf("isActive %v, stored %v", row["isActive"], full["isActive"])
		}
		if ids, ok := row["identities"].([]any); ok {
			sawIdentities = true
			fullIDs := full["identities"].([]any)
			if len(ids) != len(fullIDs) {
				t.Fatalf("identities %v vs stored %v", ids, fullIDs)
			}
			for i, id := range ids {
				m := id.(map[string]any)
				if len(m) != 1 || m["provider"] != fullIDs[i].(map[string]any)["provider"] {
					t.Fatalf("identities[%d] = %v", i, m)
				}
			}
		}
	}
	if !sawEmail || !sawIdentities {
		t.Fatalf("sample lacked emails (%v) or identities (%v)", sawEmail, sawIdentities)
	}

	// SELECT * returns the stored account byte for byte (as JSON values).
	res = walk(t, s, base, "SELECT * FROM accounts LIMIT 5")
	for _, row := range res.rows {
		full := accountMap(t, s, row["UID"].(string))
		if fmt.Sprint(row) != fmt.Sprint(full) {
			t.Fatalf("SELECT * row differs from the account:\n%v\n%v", row, full)
		}
	}

	// A whole subtree plus one of its paths, and a missing field.
	res = walk(t, s, base, "SELECT profile, profile.email, data.noSuchField FROM accounts LIMIT 5")
	for _, row := range res.rows {
		full := accountMap(t, s, row["UID"].(string))
		if fmt.Sprint(row["profile"]) != fmt.Sprint(full["profile"]) {
			t.Fatalf("profile %v, want %v", row["profile"], full["profile"])
		}
		if _, ok := row["data"]; ok {
			t.Fatalf("missing path produced data: %v", row["data"])
		}
	}
}

// timestamps returns every account's lastUpdatedTimestamp by UID.
func timestamps(t *testing.T, s *Sim) map[string]int64 {
	out := map[string]int64{}
	for _, uid := range s.UIDs() {
		out[uid] = millisOf(t, accountMap(t, s, uid)["lastUpdatedTimestamp"])
	}
	return out
}

func TestWhereAndOrderBy(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 200, Seed: 6})
	ts := timestamps(t, s)
	full := map[string]bool{}
	for uid := range ts {
		if _, lite := accountMap(t, s, uid)["hasLiteAccount"]; !lite {
			full[uid] = true
		}
	}
	sorted := make([]int64, 0, len(ts))
	for uid, v := range ts {
		if full[uid] {
			sorted = append(sorted, v)
		}
	}
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			t.Fatalf("lastUpdatedTimestamp %d is not unique", sorted[i])
		}
	}
	mid := sorted[len(sorted)/2]
	count := func(pred func(int64) bool) int {
		n := 0
		for _, v := range sorted {
			if pred(v) {
				n++
			}
		}
		return n
	}
	ge := walk(t, s, base, fmt.Sprintf("SELECT UID, lastUpdatedTimestamp FROM accounts WHERE lastUpdatedTimestamp >= %d ORDER BY lastUpdatedTimestamp LIMIT 9", mid))
	gt := walk(t, s, base, fmt.Sprintf("SELECT UID FROM accounts WHERE lastUpdatedTimestamp > %d ORDER BY lastUpdatedTimestamp ASC LIMIT 9", mid))
	if want := count(func(v int64) bool { return v >= mid }); len(ge.rows) != want || ge.total != want {
		t.Fatalf(">= returned %d (total %d), want %d", len(ge.rows), ge.total, want)
	}
	if len(gt.rows) != len(ge.rows)-1 {
		t.Fatalf("> returned %d, want %d (exactly the boundary account less)", len(gt.rows), len(ge.rows)-1)
	}
	if ts[uidsOf(ge.rows)[0]] != mid || slices.Contains(uidsOf(gt.rows), uidsOf(ge.rows)[0]) {
		t.Fatal("the boundary account is not first in >= or is in >")
	}
	var prev int64
	for _, row := range ge.rows {
		v := millisOf(t, row["lastUpdatedTimestamp"])
		if v <= prev {
			t.Fatalf("ASC order broken: %d after %d", v, prev)
		}
		prev = v
	}
	desc := walk(t, s, base, "SELECT UID FROM accounts ORDER BY lastUpdatedTimestamp DESC LIMIT 13")
	got := uidsOf(desc.rows)
	if !sort.SliceIsSorted(got, func(i, j int) bool { return ts[got[i]] > ts[got[j]] }) || len(got) != len(sorted) {
		t.Fatalf("DESC walk not descending or incomplete (%d of %d)", len(got), len(sorted))
	}
	lt := walk(t, s, base, fmt.Sprintf("SELECT UID FROM accounts WHERE lastUpdatedTimestamp < %d AND lastUpdatedTimestamp <= %d", mid, mid))
	if want := count(func(v int64) bool { return v < mid }); len(lt.rows) != want {
		t.Fatalf("< AND <= returned %d, want %d", len(lt.rows), want)
	}

	// Equality on UID and profile.email, != on a boolean, createdTimestamp range.
	uid := got[3]
	acct := accountMap(t, s, uid)
	email := acct["profile"].(map[string]any)["email"]
	byUID := walk(t, s, base, fmt.Sprintf(`SELECT UID FROM accounts WHERE UID = "%s"`, uid))
	if !slices.Equal(uidsOf(byUID.rows), []string{uid}) {
		t.Fatalf("UID = returned %v", uidsOf(byUID.rows))
	}
	if email != nil {
		byEmail := walk(t, s, base, fmt.Sprintf(`SELECT UID FROM accounts WHERE profile.email = "%s"`, strings.ToUpper(email.(string))))
		if !slices.Equal(uidsOf(byEmail.rows), []string{uid}) {
			t.Fatalf("profile.email = returned %v", uidsOf(byEmail.rows))
		}
	}
	if ids, _ := acct["loginIDs"].(map[string]any); ids != nil {
		if emails, _ := ids["emails"].([]any); len(emails) > 0 {
			login := walk(t, s, base, fmt.Sprintf(`SELECT UID FROM accounts WHERE loginIDs.emails = "%s"`, strings.ToUpper(emails[0].(string))))
			if !slices.Contains(uidsOf(login.rows), uid) {
				t.Fatalf("loginIDs.emails = returned %v, want %s among them", uidsOf(login.rows), uid)
			}
			others := walk(t, s, base, fmt.Sprintf(`SELECT UID FROM accounts WHERE loginIDs.emails != "%s"`, emails[0]))
			if slices.Contains(uidsOf(others.rows), uid) {
				t.Fatalf("loginIDs.emails != returned %s", uid)
			}
		}
	}
	inactive := walk(t, s, base, "SELECT UID, isActive FROM accounts WHERE isActive != true")
	active := walk(t, s, base, "SELECT UID FROM accounts WHERE isActive = true")
	if len(inactive.rows)+len(active.rows) != len(sorted) || len(inactive.rows) == 0 {
		t.Fatalf("isActive split %d + %d != %d", len(inactive.rows), len(active.rows), len(sorted))
	}
	for _, row := range inactive.rows {
		if row["isActive"] != false {
			t.Fatalf("isActive != true returned %v", row)
		}
	}
	created := millisOf(t, acct["createdTimestamp"])
	cr := walk(t, s, base, fmt.Sprintf("SELECT UID FROM accounts WHERE createdTimestamp >= %d AND createdTimestamp <= %d", created, created))
	if !slices.Contains(uidsOf(cr.rows), uid) {
		t.Fatalf("createdTimestamp range misses %s", uid)
	}
}

func TestEmailAccountsVsAccounts(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 150, Seed: 7})
	var lite, full []string
	for _, uid := range s.UIDs() {
		if v, _ := accountMap(t, s, uid)["hasLiteAccount"].(bool); v {
			lite = append(lite, uid)
		} else {
			full = append(full, uid)
		}
	}
	if len(lite) == 0 || len(full) == 0 {
		t.Fatalf("sample has %d lite and %d full accounts", len(lite), len(full))
	}
	check := func(name string, got walkResult, want []string) {
		t.Helper()
		if !slices.Equal(uidsOf(got.rows), want) {
			t.Fatalf("%s: got %d accounts, want %d", name, len(got.rows), len(want))
		}
	}
	check("emailAccounts", walk(t, s, base, "SELECT * FROM emailAccounts"), lite)
	check("emailAccounts hasLite", walk(t, s, base, "SELECT * FROM emailAccounts WHERE hasLiteAccount = true AND hasFullAccount = false"), lite)
	check("accounts", walk(t, s, base, "SELECT * FROM accounts"), full)
	check("accounts hasFull", walk(t, s, base, "SELECT * FROM accounts WHERE hasFullAccount = true"), full)
	check("accounts lite", walk(t, s, base, "SELECT * FROM accounts", "accountTypes", "lite"), lite)
	check("accounts full,lite", walk(t, s, base, "SELECT * FROM accounts", "accountTypes", "full,lite"), s.UIDs())
	g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts", "accountTypes", "social"), nil)
	wantCode(t, g, 400006)
}

func TestUnsupportedQueries(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 3})
	cases := []struct{ query, want string }{
		{"SELECT * FROM accounts WHERE isActive = true OR isVerified = true", "OR"},
		{"SELECT count(*) FROM accounts", "count"},
		{"SELECT UID AS id FROM accounts", "AS"},
		{"SELECT * FROM accounts GROUP BY profile.country", "GROUP BY"},
		{"SELECT * FROM accounts START 10 LIMIT 10", "START"},
		{"SELECT * FROM users", "FROM users"},
		{"SELECT * FROM accounts WHERE data.loyaltyId = \"x\"", "data.loyaltyId"},
		{"SELECT * FROM accounts ORDER BY createdTimestamp", "ORDER BY createdTimestamp"},
		{"SELECT * FROM accounts WHERE UID = 'abc'", "single-quoted"},
		{"SELECT * FROM accounts WHERE UID IN (\"a\")", "IN"},
		{"SELECT * FROM accounts WHERE profile.email CONTAINS \"x\"", "CONTAINS"},
		{"SELECT * FROM accounts WHERE profile.email > \"a\"", "encrypted"},
		{"SELECT * FROM accounts WHERE isActive > true", "boolean"},
		{"SELECT * FROM accounts WHERE lastUpdatedTimestamp >= \"2024-01-01\"", "needs a number"},
		{"SELECT * FROM accounts WHERE isActive = null", "null"},
		{"SELECT * FROM accounts LIMIT 10 WHERE isActive = true", "WHERE after LIMIT"},
		{"SELECT * FROM accounts ORDER BY lastUpdatedTimestamp WHERE isActive = true", "WHERE after ORDER BY"},
		{"SELECT * FROM accounts WHERE (isActive = true)", "parentheses"},
		{"SELECT * FROM accounts WHERE lastUpdatedTimestamp <> 5", "<>"},
		{"SELECT * FROM accounts LIMIT 2.5", "LIMIT 2.5"},
		{"SELECT *, UID FROM accounts", "SELECT *"},
		{"DELETE FROM accounts", "SELECT"},
		{"SELECT * FROM accounts ORDER BY lastUpdatedTimestamp, UID", "more than one field"},
		{"SELECT * FROM accounts WHERE isVerified = true FILTER x", "FILTER"},
		{"SELECT * FROM accounts junk", "junk"},
		{"SELECT * FROM", "end of query"},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			g := callAPI(t, base, "accounts.search", partner(s, "query", c.query, "openCursor", "true"), nil)
			wantCode(t, g, 400006)
			if d := g.str("errorDetails"); !strings.Contains(d, c.want) {
				t.Fatalf("errorDetails %q does not name %q", d, c.want)
			}
		})
	}
	// Keywords are case-insensitive and whitespace is free.
	g := callAPI(t, base, "accounts.search", partner(s, "query", "  select\t*\nfrom   ACCOUNTS  where isActive=true and lastUpdatedTimestamp>=0 order by lastUpdatedTimestamp desc limit 2 "), nil)
	wantCode(t, g, 0)

	g = callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts", "cursorId", "abc"), nil)
	wantCode(t, g, 400006)
	if !strings.Contains(g.str("errorDetails"), "query and cursorId") {
		t.Fatalf("errorDetails %q", g.str("errorDetails"))
	}
	g = callAPI(t, base, "accounts.search", partner(s), nil)
	wantCode(t, g, 400002)
	g = callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts", "openCursor", "yes"), nil)
	wantCode(t, g, 400006)
	g = callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts", "timeout", "soon"), nil)
	wantCode(t, g, 400006)
}

func TestCursorResendReturnsSamePage(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 40, Seed: 8})
	g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT UID FROM accounts LIMIT 5", "openCursor", "true"), nil)
	c1 := g.str("nextCursorId")
	first := callAPI(t, base, "accounts.search", partner(s, "cursorId", c1), nil)
	second := callAPI(t, base, "accounts.search", partner(s, "cursorId", c1), nil)
	wantCode(t, first, 0)
	wantCode(t, second, 0)
	if !slices.Equal(uidsOf(first.results()), uidsOf(second.results())) || len(first.results()) != 5 {
		t.Fatalf("resent cursor returned a different page:\n%v\n%v", uidsOf(first.results()), uidsOf(second.results()))
	}
	c2 := first.str("nextCursorId")
	if c2 == "" || c2 == c1 || second.str("nextCursorId") != c2 {
		t.Fatalf("nextCursorId: first %q, resend %q, used %q: want a new id, stable on resend", c2, second.str("nextCursorId"), c1)
	}
	third := callAPI(t, base, "accounts.search", partner(s, "cursorId", c2), nil)
	if slices.Equal(uidsOf(third.results()), uidsOf(first.results())) {
		t.Fatal("the next cursor returned the same page")
	}
	// An id that was never issued.
	g = callAPI(t, base, "accounts.search", partner(s, "cursorId", "nope"), nil)
	wantCode(t, g, 400006)
	if g.str("errorDetails") != "invalid cursorId" {
		t.Fatalf("errorDetails %q", g.str("errorDetails"))
	}
}

func TestCursorTTL(t *testing.T) {
	clk := newFakeClock()
	s, base := startSim(t, Options{Accounts: 30, Seed: 9, Clock: clk.Now, CursorTTL: time.Minute})
	g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT UID FROM accounts LIMIT 4", "openCursor", "true"), nil)
	c1 := g.str("nextCursorId")
	clk.Add(59 * time.Second)
	g = callAPI(t, base, "accounts.search", partner(s, "cursorId", c1), nil)
	wantCode(t, g, 0)
	c2 := g.str("nextCursorId")
	// Idle time counts from the last use: 59s + 59s after opening is fine.
	clk.Add(59 * time.Second)
	g = callAPI(t, base, "accounts.search", partner(s, "cursorId", c2), nil)
	wantCode(t, g, 0)
	c3 := g.str("nextCursorId")
	clk.Add(61 * time.Second)
	for _, id := range []string{c3, c1} {
		g = callAPI(t, base, "accounts.search", partner(s, "cursorId", id), nil)
		wantCode(t, g, 400006)
		if g.str("errorMessage") != "Invalid parameter value" || g.str("errorDetails") != "invalid cursorId" {
			t.Fatalf("expiry response %v", g)
		}
	}
	if st := s.Stats(); st.CursorsExpired != 1 || s.OpenCursors() != 0 {
		t.Fatalf("CursorsExpired %d, open %d", st.CursorsExpired, s.OpenCursors())
	}
}

func TestCursorIsSnapshot(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 20, Seed: 10})
	uids := s.UIDs()
	g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT UID FROM accounts LIMIT 3", "openCursor", "true", "accountTypes", "full,lite"), nil)
	rows := uidsOf(g.results())
	s.Delete(uids[len(uids)-1])
	for next := g.str("nextCursorId"); next != ""; next = g.str("nextCursorId") {
		g = callAPI(t, base, "accounts.search", partner(s, "cursorId", next, "accountTypes", "full,lite"), nil)
		rows = append(rows, uidsOf(g.results())...)
	}
	if !slices.Equal(rows, uids) {
		t.Fatal("an open cursor should keep serving the accounts of its snapshot")
	}
	res := walk(t, s, base, "SELECT UID FROM accounts", "accountTypes", "full,lite")
	if len(res.rows) != len(uids)-1 {
		t.Fatalf("new search after Delete: %d rows, want %d", len(res.rows), len(uids)-1)
	}
}

func TestPutUpdateBumpTimestamps(t *testing.T) {
	// The clock starts behind the newest sample timestamps (2025): bumps
	// must still go above every stored value.
	clk := &fakeClock{t: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, base := startSim(t, Options{Accounts: 50, Seed: 11, Clock: clk.Now})
	newest := func() int64 {
		g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT lastUpdatedTimestamp FROM accounts ORDER BY lastUpdatedTimestamp DESC LIMIT 1", "accountTypes", "full,lite"), nil)
		return millisOf(t, g.results()[0]["lastUpdatedTimestamp"])
	}
	old := newest()
	uid := s.UIDs()[0]
	if err := s.Update(uid, func(a map[string]any) {
		a["profile"].(map[string]any)["firstName"] = "Changed"
	}); err != nil {
		t.Fatal(err)
	}
	res := walk(t, s, base, fmt.Sprintf("SELECT UID, profile.firstName, lastUpdatedTimestamp, lastUpdated FROM accounts WHERE lastUpdatedTimestamp > %d", old), "accountTypes", "full,lite")
	if len(res.rows) != 1 || res.rows[0]["UID"] != uid {
		t.Fatalf("after Update, > old watermark returned %v", res.rows)
	}
	row := res.rows[0]
	if row["profile"].(map[string]any)["firstName"] != "Changed" {
		t.Fatalf("update not visible: %v", row)
	}
	bumped := millisOf(t, row["lastUpdatedTimestamp"])
	if bumped != old+1 || row["lastUpdated"] != isoMillis(bumped) {
		t.Fatalf("bumped to %d / %v, want old+1 = %d", bumped, row["lastUpdated"], old+1)
	}

	// Put: replace the same account, then a new one; each strictly later.
	raw, _ := s.Account(uid)
	if err := s.Put(raw); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour * 24 * 365 * 10) // now far above every sample timestamp
	newAcct := []byte(`{"UID":"put-new-1","isActive":true,"isRegistered":true,"isVerified":true,"profile":{"email":"put@example.com"},"createdTimestamp":1000}`)
	if err := s.Put(newAcct); err != nil {
		t.Fatal(err)
	}
	res = walk(t, s, base, fmt.Sprintf("SELECT UID, lastUpdatedTimestamp FROM accounts WHERE lastUpdatedTimestamp > %d ORDER BY lastUpdatedTimestamp", bumped), "accountTypes", "full,lite")
	if got := uidsOf(res.rows); !slices.Equal(got, []string{uid, "put-new-1"}) {
		t.Fatalf("after two Puts got %v", got)
	}
	if millisOf(t, res.rows[1]["lastUpdatedTimestamp"]) != clk.Now().UnixMilli() {
		t.Fatalf("Put with a clock ahead should stamp now, got %v", res.rows[1]["lastUpdatedTimestamp"])
	}
	if err := s.Put([]byte(`{"profile":{}}`)); err == nil {
		t.Fatal("Put without UID accepted")
	}
	if err := s.Update("missing", func(map[string]any) {}); err == nil {
		t.Fatal("Update of a missing account accepted")
	}
	if err := s.Update(uid, func(a map[string]any) { a["UID"] = "other" }); err == nil {
		t.Fatal("Update changing the UID accepted")
	}
}

func TestUniqueUpdatedRewritesTies(t *testing.T) {
	mk := func(uid string, ts int64) *record {
		r, err := parseRecord([]byte(fmt.Sprintf(`{"UID":%q,"lastUpdated":"x","lastUpdatedTimestamp":%d}`, uid, ts)))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	recs := []*record{mk("c", 100), mk("a", 100), mk("b", 101), mk("d", 50), mk("e", 100)}
	if err := uniqueUpdated(recs); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s=%d", r.uid, r.updated))
		m, _ := decodeAccount(r.raw)
		if m["lastUpdated"] != "x" && m["lastUpdated"] != isoMillis(r.updated) {
			t.Fatalf("lastUpdated not rewritten: %v", m)
		}
	}
	// Sorted: d=50 a=100 c=100 e=100 b=101. c moves to 101, e to 102, and
	// b, now not above e, to 103.
	want := []string{"d=50", "a=100", "c=101", "e=102", "b=103"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestGeneratedTimestampsUniqueAndKept(t *testing.T) {
	s, err := New(Options{Accounts: 1000, Seed: 12})
	if err != nil {
		t.Fatal(err)
	}
	var prev int64
	for _, uid := range s.UIDs() {
		v := millisOf(t, accountMap(t, s, uid)["lastUpdatedTimestamp"])
		if v <= prev {
			t.Fatalf("UIDs() not in strictly increasing lastUpdatedTimestamp order: %d after %d", v, prev)
		}
		prev = v
	}
	// Sample timestamps are kept, except for the few ties moved by 1 ms.
	g := sample.New(12, FastSampleOptions)
	moved := 0
	for range 1000 {
		a := g.Next()
		r, err := parseRecord(a.JSON)
		if err != nil {
			t.Fatal(err)
		}
		if got := millisOf(t, accountMap(t, s, a.UID)["lastUpdatedTimestamp"]); got != r.updated {
			if got < r.updated || got > r.updated+5 {
				t.Fatalf("%s: lastUpdatedTimestamp %d, sample %d", a.UID, got, r.updated)
			}
			moved++
		}
	}
	if moved > 10 {
		t.Fatalf("%d of 1000 timestamps changed", moved)
	}
	// Same seed, same accounts.
	s2, _ := New(Options{Accounts: 1000, Seed: 12})
	if !slices.Equal(s.UIDs(), s2.UIDs()) {
		t.Fatal("generation is not deterministic")
	}
}

func TestRequestFormatErrors(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 1})
	do := func(req *http.Request) gresp {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		return decode(t, body)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/accounts.search?"+partner(s, "query", "SELECT * FROM accounts").Encode(), nil)
	wantCode(t, do(req), 400001)
	req, _ = http.NewRequest(http.MethodPost, base+"/accounts.search", strings.NewReader(`{"apiKey":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	wantCode(t, do(req), 400001)

	g := callAPI(t, base, "accounts.getAccountInfo", partner(s), nil)
	wantCode(t, g, 400001)
	g = callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts", "format", "xml"), nil)
	wantCode(t, g, 400006)

	// httpStatusCodes=true mirrors statusCode in the HTTP status.
	st, _ := rawPost(t, base, "accounts.search", url.Values{"apiKey": {"wrong"}, "httpStatusCodes": {"true"}}, nil)
	if st != 400 {
		t.Fatalf("httpStatusCodes=true: HTTP %d, want 400", st)
	}
	if s.Stats().Requests["accounts.search"] < 3 {
		t.Fatalf("requests not counted: %v", s.Stats().Requests)
	}
}
