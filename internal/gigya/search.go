package gigya

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// Page is one page of accounts.search results.
type Page struct {
	// Results holds each account object byte-for-byte as Gigya sent it.
	Results []json.RawMessage
	// ObjectsCount is the number of objects in this page, TotalCount the
	// number of matches of the whole query.
	ObjectsCount int
	TotalCount   int
	// NextCursorID continues the search with SearchNext; "" on the last page.
	NextCursorID string
}

// Done reports whether p is the last page: it has no NextCursorID, or it is
// empty (Gigya sometimes returns a cursor after the last row, and the next
// page is then empty: docs/apis/gigya.md, "Search responses").
func (p Page) Done() bool { return p.NextCursorID == "" || len(p.Results) == 0 }

type searchResponse struct {
	Results      []json.RawMessage `json:"results"`
	ObjectsCount *int              `json:"objectsCount"`
	TotalCount   int               `json:"totalCount"`
	NextCursorID string            `json:"nextCursorId"`
}

// Search starts a cursor search: it sends query with openCursor=true (and
// accountTypes, "full", "lite" or "full,lite", when not empty) and returns
// the first page. With openCursor the query's LIMIT is the page size, which
// should not exceed 1000 (docs/apis/gigya.md, "Page size and limits").
func (c *Client) Search(ctx context.Context, query string, accountTypes string) (Page, error) {
	if strings.TrimSpace(query) == "" {
		return Page{}, fault.Permanent(CodeInvalidRequest, errors.New("gigya accounts.search: empty query"))
	}
	p := c.searchParams()
	p.Set("query", query)
	p.Set("openCursor", "true")
	if accountTypes != "" {
		p.Set("accountTypes", accountTypes)
	}
	return c.search(ctx, p)
}

// SearchNext fetches the page after cursorID. It sends only cursorId (and
// timeout); retries of a transient failure resend the same cursorID. An
// unknown or expired cursor gives an error matching [ErrCursorExpired]:
// restart the query. Gigya keeps a cursor for 5 minutes between requests.
func (c *Client) SearchNext(ctx context.Context, cursorID string) (Page, error) {
	if cursorID == "" {
		return Page{}, fault.Permanent(CodeInvalidRequest, errors.New("gigya accounts.search: empty cursorId"))
	}
	p := c.searchParams()
	p.Set("cursorId", cursorID)
	return c.search(ctx, p)
}

// searchParams holds the `timeout` parameter: the per-attempt timeout in
// ms, capped at Gigya's maximum of 60000.
func (c *Client) searchParams() url.Values {
	ms := min(c.timeout, maxServerTimeout).Milliseconds()
	return url.Values{"timeout": {strconv.FormatInt(ms, 10)}}
}

func (c *Client) search(ctx context.Context, p url.Values) (Page, error) {
	var r searchResponse
	if err := c.Call(ctx, "accounts.search", p, &r); err != nil {
		return Page{}, err
	}
	page := Page{Results: r.Results, TotalCount: r.TotalCount, NextCursorID: r.NextCursorID}
	if r.ObjectsCount != nil {
		page.ObjectsCount = *r.ObjectsCount
	} else {
		page.ObjectsCount = len(r.Results)
	}
	return page, nil
}

// Search sources (FROM) of BuildQuery.
const (
	FromAccounts      = "accounts"
	FromEmailAccounts = "emailAccounts" // lite accounts
)

// BuildQuery builds
//
//	SELECT <fields> FROM <from> [WHERE <where>] ORDER BY lastUpdatedTimestamp [LIMIT <limit>]
//
// in the clause order Gigya requires (docs/apis/gigya.md, "Query language").
// No fields means "*", an empty from means "accounts", an empty where omits
// WHERE, and a limit ≤ 0 omits LIMIT (Gigya's default page size then
// applies). where is inserted as is: string literals in it take double
// quotes.
func BuildQuery(fields []string, from string, where string, limit int) string {
	sel := "*"
	if len(fields) > 0 {
		sel = strings.Join(fields, ", ")
	}
	if from == "" {
		from = FromAccounts
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(sel)
	b.WriteString(" FROM ")
	b.WriteString(from)
	if w := strings.TrimSpace(where); w != "" {
		b.WriteString(" WHERE ")
		b.WriteString(w)
	}
	b.WriteString(" ORDER BY lastUpdatedTimestamp")
	if limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(limit))
	}
	return b.String()
}

// DefaultFields returns the fields a migration reads (docs/apis/gigya.md,
// "Account fields"). A new slice on every call.
func DefaultFields() []string {
	return []string{
		"UID",
		"profile", "data",
		"loginIDs", "emails", "identities",
		"password",
		"preferences", "subscriptions",
		"created", "createdTimestamp",
		"lastUpdated", "lastUpdatedTimestamp",
		"lastLogin", "lastLoginTimestamp",
		"registered", "registeredTimestamp",
		"verified", "verifiedTimestamp",
		"oldestDataUpdated", "oldestDataUpdatedTimestamp",
		"isActive", "isRegistered", "isVerified", "isLockedOut", "lockedUntil",
		"loginProvider", "socialProviders", "regSource",
		"phoneNumber",
		"hasLiteAccount", "hasFullAccount",
	}
}
