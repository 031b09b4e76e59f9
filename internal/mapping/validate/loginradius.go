package validate

import (
	"fmt"
)

// LoginRadiusMaxUserSize is the size, in bytes of compact JSON, above which a
// LoginRadius user is a violation: the bulk migration API takes at most 10 MB
// per request (docs/apis/loginradius.md, "Request size"), so a bigger user
// fits in none. 10 MiB rather than 10,000,000 so that this never rejects a
// user the API would take; the loader's batching uses its own measure.
const LoginRadiusMaxUserSize = 10 << 20

// NewLoginRadius returns the validator for LoginRadius user profiles, as sent
// in the Profiles array of the bulk migration API (or as the body of Account
// Create). Its rules are deliberately few: only what docs/apis/loginradius.md
// ("Profile fields") confirms. [Options] do not apply to LoginRadius and are
// ignored.
//
// Confirmed, and checked:
//   - Email is an array of {Type, Value} objects (the Node SDK's README, the
//     Go SDK's integration tests, the BatchUpload example): each item an
//     object with a string Type and a string Value that is an email address.
//   - FirstName, LastName, Username, PhoneID and PasswordHash are strings;
//     EmailVerified and PhoneIDVerified are booleans (the Go SDK's
//     integration-test structs, the Node SDK's README, the BatchUpload
//     example).
//   - Uid, when present, is a string (it is one in every response).
//   - The user fits in one 10 MB request.
//
// Warned about: a top-level name that does not start with an upper-case
// letter. Every documented field is PascalCase, so "email" is most likely a
// mapping meant for another target; whether LoginRadius ignores it, rejects
// it or matches it case-insensitively is unconfirmed.
//
// Left out as unconfirmed: required fields (is Email required? a user may
// have only a PhoneID), the Type enum (Primary and Secondary are seen;
// others unknown), unknown top-level names (LoginRadius profiles have many
// fields plus CustomFields, and no document says unknown ones fail),
// PhoneID format, PasswordHash grammar (depends on the request's
// PasswordEncryption), length limits, and Password: a plaintext string in
// Account Create, but its shape in a migration profile is undocumented, and
// this project's mapping (configs/loginradius.yaml) sends an object
// {PasswordHash, PasswordEncryption} there for the loader to split up.
func NewLoginRadius(Options) Validator { return loginRadius{} }

type loginRadius struct{}

// Validate implements [Validator].
func (loginRadius) Validate(user map[string]any) Result {
	var c checker
	size := 2
	if len(user) > 0 {
		size += 2*len(user) - 1
	}
	for k, v := range user {
		p := pathNode{key: k}
		if k == "" || k[0] < 'A' || k[0] > 'Z' {
			c.warning(&p, RulePascalCase, "LoginRadius field names are PascalCase (Email, FirstName, ...): this one may be ignored, check the mapping")
		}
		switch k {
		case "Email":
			checkLREmails(&c, v, &p)
		case "Uid", "FirstName", "LastName", "Username", "PhoneID", "PasswordHash":
			c.wantString(v, &p)
		case "EmailVerified", "PhoneIDVerified":
			c.wantBool(v, &p)
		}
		n, ok := scanString(k)
		if !ok {
			c.violation(&p, RuleInvalidUTF8, "this key is not valid UTF-8: JSON encoding would alter it")
		}
		size += n + c.walkValue(v, &p, false)
	}
	if size > LoginRadiusMaxUserSize {
		c.violation(nil, RuleMaxSize, fmt.Sprintf("the user is about %d bytes as JSON, more than one LoginRadius migration request may carry (10 MB): move data out of the profile", size))
	}
	return c.result()
}

// checkLREmails checks Email: [{"Type": "Primary", "Value": "..."}].
func checkLREmails(c *checker, v any, p *pathNode) {
	items, ok := asArray(v)
	if !ok {
		c.typeViolation(p, `an array of {"Type": "Primary", "Value": "<address>"} objects`, v)
		return
	}
	for i, item := range items {
		ip := elem(p, i)
		m, ok := c.wantObject(item, &ip)
		if !ok {
			continue
		}
		tp := member(&ip, "Type")
		if t, present := m["Type"]; !present {
			c.violation(&tp, RuleRequired, `is required: the kind of address, e.g. "Primary"`)
		} else {
			c.wantString(t, &tp)
		}
		vp := member(&ip, "Value")
		val, present := m["Value"]
		if !present {
			c.violation(&vp, RuleRequired, "is required: the email address")
			continue
		}
		if s, ok := c.wantString(val, &vp); ok {
			if msg := emailProblem(s); msg != "" {
				c.violation(&vp, RuleFormatEmail, msg)
			}
		}
	}
}
