package gigya

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// Codes of FindAccount's own errors, as fault.Classify reports them.
const (
	// CodeNotFound: no account matches (permanent).
	CodeNotFound = "not_found"
	// CodeAmbiguous: more than one account matches (permanent).
	CodeAmbiguous = "ambiguous_account"
)

var (
	// ErrNotFound matches a FindAccount that found no account.
	ErrNotFound = errors.New("gigya: no account matches")
	// ErrAmbiguous matches a FindAccount that found more than one account:
	// a login identifier should name one account of a site.
	ErrAmbiguous = errors.New("gigya: more than one account matches")
)

// LookupFields returns the fields a login-time lookup selects: those of
// [DefaultFields] except the password hash, which a lookup must never
// carry out of Gigya (docs/login-migration.md). A new slice on every call.
func LookupFields() []string {
	return slices.DeleteFunc(DefaultFields(), func(f string) bool { return f == "password" })
}

// FindAccount returns the one full account whose field (such as
// loginIDs.emails, profile.email or UID) equals value, selecting fields
// (none: "*"), with a single accounts.search without a cursor:
//
//	SELECT <fields> FROM accounts WHERE <field> = "<value>" ORDER BY lastUpdatedTimestamp LIMIT 2
//
// An encrypted field (emails, usernames) only takes = (docs/apis/gigya.md,
// "Query language"). Gigya documents no escape for a double quote inside a
// string literal, so a value holding one, a backslash or a control
// character is refused (CodeInvalidRequest) rather than sent. No match is
// [ErrNotFound] (CodeNotFound), two or more [ErrAmbiguous]
// (CodeAmbiguous); both permanent. Transient errors are retried like every
// Call.
func (c *Client) FindAccount(ctx context.Context, field, value string, fields []string) (json.RawMessage, error) {
	if !validFieldPath(field) {
		return nil, fault.Permanent(CodeInvalidRequest, fmt.Errorf("gigya accounts.search: field %q is not a field path", field))
	}
	for _, f := range fields {
		if !validFieldPath(f) {
			return nil, fault.Permanent(CodeInvalidRequest, fmt.Errorf("gigya accounts.search: selected field %q is not a field path", f))
		}
	}
	if strings.TrimSpace(value) == "" {
		return nil, fault.Permanent(CodeInvalidRequest, errors.New("gigya accounts.search: empty value"))
	}
	if strings.ContainsFunc(value, func(r rune) bool { return r == '"' || r == '\\' || r < ' ' || r == 0x7f }) {
		return nil, fault.Permanent(CodeInvalidRequest, fmt.Errorf("gigya accounts.search: a %s holding a double quote, a backslash or a control character cannot be searched", field))
	}
	p := c.searchParams()
	p.Set("query", BuildQuery(fields, FromAccounts, field+` = "`+value+`"`, 2))
	page, err := c.search(ctx, p)
	if err != nil {
		return nil, err
	}
	switch len(page.Results) {
	case 0:
		return nil, fault.Permanent(CodeNotFound, fmt.Errorf("gigya accounts.search: %w (%s)", ErrNotFound, field))
	case 1:
		return page.Results[0], nil
	}
	return nil, fault.Permanent(CodeAmbiguous, fmt.Errorf("gigya accounts.search: %w (%s)", ErrAmbiguous, field))
}

// validFieldPath accepts dotted names of letters, digits and underscores
// ("loginIDs.emails"), so that a field cannot carry a query of its own.
func validFieldPath(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			ch := part[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_') {
				return false
			}
		}
	}
	return true
}
