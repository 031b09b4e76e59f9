package validate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Auth0 size limits (docs/apis/auth0.md, "Size and length limits").
const (
	// Auth0ProfileSizeWarn is the size, in bytes of compact JSON, above
	// which a user gets a profile_size warning. Auth0 limits the serialized
	// profile to "10 KB"; 10,000 rather than 10,240 because Auth0 measures
	// its stored profile, which adds identities and timestamps to what we
	// send, and because a warning too early costs nothing.
	Auth0ProfileSizeWarn = 10_000
	// Auth0MaxUserSize is the size above which a user is a violation: the
	// import file is limited to 500 KB, so a bigger user fits in no file.
	Auth0MaxUserSize = 500_000
	// Management API length limits, used for warnings only: the import job's
	// enforcement of them is unconfirmed (docs/apis/auth0.md, "Size and
	// length limits").
	auth0MaxGivenNameLen = 150
	auth0MaxNameLen      = 300
)

// NewAuth0 returns the validator for users of Auth0's bulk user import
// (POST /api/v2/jobs/users-imports). See the package documentation for its
// rules and their sources.
func NewAuth0(o Options) Validator { return auth0{opts: o} }

type auth0 struct{ opts Options }

// reservedAppMetadata are the app_metadata keys Auth0's import schema
// forbids (docs/apis/auth0.md, "Reserved app_metadata keys").
var reservedAppMetadata = map[string]struct{}{
	"__tenant": {}, "_id": {}, "blocked": {}, "clientID": {}, "created_at": {},
	"email_verified": {}, "email": {}, "globalClientID": {}, "global_client_id": {},
	"identities": {}, "lastIP": {}, "lastLogin": {}, "loginsCount": {}, "metadata": {},
	"multifactor_last_modified": {}, "multifactor": {}, "updated_at": {}, "user_id": {},
}

const auth0Prefix = "auth0|"

// Validate implements [Validator].
func (a auth0) Validate(user map[string]any) Result { return validateMap(a.ValidateFields, user) }

// ValidateFields implements [Validator].
func (a auth0) ValidateFields(user *Fields) Result {
	var c checker
	// Repairs first, so that every check sees the data as it will be sent.
	if a.opts.StripAuth0Prefix {
		stripAuth0Prefix(&c, user)
	}
	if a.opts.SanitizeMetadataKeys {
		for _, k := range [...]string{"app_metadata", "user_metadata"} {
			if i := user.index(k); i >= 0 && hasMetaKeyChars(user.Values[i], 1) {
				root := pathNode{key: k}
				if nv, changed := c.sanitize(user.Values[i], &root, 1); changed {
					user.Values[i] = nv
				}
			}
		}
	}

	size := 2
	if len(user.Keys) > 0 {
		size += 2*len(user.Keys) - 1
	}
	for i, k := range user.Keys {
		v := user.Values[i]
		p := pathNode{key: k}
		meta := false
		switch k {
		case "email":
			if s, ok := c.wantString(v, &p); ok {
				if msg := emailProblem(s); msg != "" {
					c.violation(&p, RuleFormatEmail, msg)
				}
			}
		case "email_verified", "phone_verified", "blocked":
			c.wantBool(v, &p)
		case "phone_number":
			if s, ok := c.wantString(v, &p); ok {
				if msg := e164Problem(s); msg != "" {
					c.violation(&p, RuleE164, msg)
				}
			}
		case "user_id":
			if s, ok := c.wantString(v, &p); ok && strings.HasPrefix(s, auth0Prefix) {
				c.violation(&p, RuleUserIDPrefix, `starts with "auth0|", which Auth0 prepends itself (the id would become auth0|auth0|...): strip it in the mapping or enable the strip_auth0_prefix repair`)
			}
		case "username", "picture":
			c.wantString(v, &p)
		case "given_name", "family_name":
			c.nameLength(v, &p, auth0MaxGivenNameLen)
		case "name", "nickname":
			c.nameLength(v, &p, auth0MaxNameLen)
		case "password_hash":
			if s, ok := c.wantString(v, &p); ok {
				if msg := passwordHashProblem(s); msg != "" {
					c.violation(&p, RulePasswordHashFormat, msg)
				}
			}
		case "custom_password_hash":
			if cv, ok := v.(Converted); !ok || cv.ConvertedBy() != ConverterAuth0 {
				checkCustomPasswordHash(&c, v, &p)
			}
		case "app_metadata":
			meta = true
			keys, _ := c.objectKeys(v, &p)
			for _, mk := range keys {
				if _, reserved := reservedAppMetadata[mk]; reserved {
					child := member(&p, mk)
					c.violation(&child, RuleReservedAppMetadata, "is a key Auth0 reserves in app_metadata: rename it in the mapping (e.g. with a gigya_ prefix)")
				}
			}
		case "user_metadata":
			meta = true
			if _, ok := v.(RawObject); !ok {
				c.wantObject(v, &p)
			}
		case "mfa_factors":
			checkMFAFactors(&c, v, &p)
		default:
			c.violation(&p, RuleAdditionalProperty, "is not a field of Auth0's user schema, which forbids others (one such user can make the whole import file invalid): fix the name, or move the value under app_metadata or user_metadata")
		}
		n, _ := user.keySize(i) // a bad top-level key is already an additional_property
		size += n + c.walkValue(v, &p, meta && !a.opts.SanitizeMetadataKeys)
	}

	if user.index("email") < 0 {
		p := pathNode{key: "email"}
		c.violation(&p, RuleRequired, "is required by Auth0's import schema: map an address, or filter out users without one")
	}
	if user.index("password_hash") >= 0 {
		if user.index("custom_password_hash") >= 0 {
			p := pathNode{key: "password_hash"}
			c.violation(&p, RulePasswordHashExclusive, "password_hash and custom_password_hash are mutually exclusive: send one of them")
		}
	}
	var root *pathNode // the user itself: an empty path
	switch {
	case size > Auth0MaxUserSize:
		c.violation(root, RuleMaxSize, fmt.Sprintf("the user is about %d bytes as JSON, more than an Auth0 import file may hold (500 KB): move data out of the metadata", size))
	case size > Auth0ProfileSizeWarn:
		c.warning(root, RuleProfileSize, fmt.Sprintf("the user is about %d bytes as JSON, over the 10 KB Auth0 allows for a profile (tenants with the extended size allowance only log it, until March 2027): trim the metadata", size))
	}
	return c.result()
}

// stripAuth0Prefix is the strip_auth0_prefix repair.
func stripAuth0Prefix(c *checker, user *Fields) {
	i := user.index("user_id")
	if i < 0 {
		return
	}
	s, ok := asString(user.Values[i])
	if !ok || !strings.HasPrefix(s, auth0Prefix) || len(s) == len(auth0Prefix) {
		return
	}
	user.Values[i] = s[len(auth0Prefix):]
	p := pathNode{key: "user_id"}
	c.repaired(&p, RuleUserIDPrefix, `removed the "auth0|" prefix, which Auth0 adds itself`)
}

// wantString returns v as a string, or reports a type violation.
func (c *checker) wantString(v any, p *pathNode) (string, bool) {
	s, ok := asString(v)
	if !ok {
		c.typeViolation(p, "a string", v)
	}
	return s, ok
}

// wantBool reports a type violation unless v is a boolean.
func (c *checker) wantBool(v any, p *pathNode) {
	if _, ok := asBool(v); !ok {
		c.typeViolation(p, "a boolean", v)
	}
}

// wantObject returns v as an object, or reports a type violation.
func (c *checker) wantObject(v any, p *pathNode) (map[string]any, bool) {
	m, ok := asObject(v)
	if !ok {
		c.typeViolation(p, "an object", v)
	}
	return m, ok
}

// nameLength checks a profile name: a string, warned about outside the
// Management API's limits (1 to max characters, counted as code points as
// JSON Schema counts them). Warnings only, because whether the import job
// enforces those limits is unconfirmed (docs/apis/auth0.md, "Size and length
// limits").
func (c *checker) nameLength(v any, p *pathNode, max int) {
	s, ok := c.wantString(v, p)
	if !ok {
		return
	}
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		c.warning(p, RuleLength, fmt.Sprintf("is empty, but the Management API requires 1 to %d characters (import-job enforcement unconfirmed): leave empty values out (omit_empty)", max))
	case n > max:
		c.warning(p, RuleLength, fmt.Sprintf("has %d characters, but the Management API allows at most %d (import-job enforcement unconfirmed): consider truncating it in the mapping", n, max))
	}
}

// passwordHashProblem checks Auth0's password_hash: "bcrypt $2a$ or $2b$
// and have 10 saltRounds" (docs/apis/auth0.md, "User fields").
func passwordHashProblem(s string) string {
	variant, cost, msg := bcryptShape(s)
	switch {
	case variant != 'a' && variant != 'b':
		return "must be a bcrypt hash starting with $2a$ or $2b$: for $2y$ or other algorithms use custom_password_hash"
	case msg != "":
		return msg
	case cost != 10:
		return fmt.Sprintf("has bcrypt cost %d, but password_hash must have cost 10 ($2b$10$...): use custom_password_hash with algorithm bcrypt for other costs", cost)
	}
	return ""
}

// bcryptShape checks the modular-crypt form of a bcrypt hash,
// $2<variant>$<two-digit cost>$<53 characters of bcrypt's base64>, and
// returns the variant letter (0 if there is none) and the cost.
func bcryptShape(s string) (variant byte, cost int, problem string) {
	if len(s) < 4 || s[0] != '$' || s[1] != '2' || s[3] != '$' {
		return 0, 0, "is not a bcrypt hash ($2a$, $2b$ or $2y$ prefix)"
	}
	variant = s[2]
	if len(s) != 60 || s[6] != '$' || !isDigits(s[4:6]) {
		return variant, 0, "is not a complete bcrypt hash: $2b$, a two-digit cost, $, then 53 characters (60 in all)"
	}
	cost = int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < 4 || cost > 31 {
		return variant, cost, "has a bcrypt cost outside 04-31"
	}
	for i := 7; i < len(s); i++ {
		ch := s[i]
		if !(ch == '.' || ch == '/' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9') {
			return variant, cost, "has characters outside bcrypt's base64 alphabet (./A-Za-z0-9)"
		}
	}
	return variant, cost, ""
}

// checkMFAFactors checks mfa_factors (docs/apis/auth0.md, "User fields"): an
// array of 1 to 10 objects, each with exactly one of totp{secret},
// phone{value}, email{value}, and nothing else at any level.
func checkMFAFactors(c *checker, v any, p *pathNode) {
	items, ok := asArray(v)
	if !ok {
		c.typeViolation(p, "an array", v)
		return
	}
	if len(items) < 1 || len(items) > 10 {
		c.violation(p, RuleArrayLength, fmt.Sprintf("has %d items, but Auth0 accepts 1 to 10: leave the field out when there are none", len(items)))
	}
	for i, item := range items {
		ip := elem(p, i)
		f, ok := c.wantObject(item, &ip)
		if !ok {
			continue
		}
		if len(f) != 1 {
			c.violation(&ip, RuleMFAFactor, fmt.Sprintf("has %d members, but each factor must be exactly one of totp, phone or email", len(f)))
		}
		for k, fv := range f {
			fp := member(&ip, k)
			switch k {
			case "totp":
				if s, ok := mfaValue(c, fv, &fp, "secret"); ok && !base32Upper(s) {
					sp := member(&fp, "secret")
					c.violation(&sp, RuleTOTPSecret, "must be unpadded upper-case Base32 (A-Z, 2-7), e.g. JBTWY3DPEHPK3PNP")
				}
			case "phone":
				if s, ok := mfaValue(c, fv, &fp, "value"); ok {
					if msg := e164Problem(s); msg != "" {
						vp := member(&fp, "value")
						c.violation(&vp, RuleE164, msg)
					}
				}
			case "email":
				if s, ok := mfaValue(c, fv, &fp, "value"); ok {
					if msg := emailProblem(s); msg != "" {
						vp := member(&fp, "value")
						c.violation(&vp, RuleFormatEmail, msg)
					}
				}
			default:
				c.violation(&fp, RuleAdditionalProperty, "is not an MFA factor type: use totp, phone or email")
			}
		}
	}
}

// mfaValue checks a factor object, which must hold exactly the string
// member name, and returns that string.
func mfaValue(c *checker, v any, p *pathNode, name string) (string, bool) {
	m, ok := c.wantObject(v, p)
	if !ok {
		return "", false
	}
	for k := range m {
		if k != name {
			kp := member(p, k)
			c.violation(&kp, RuleAdditionalProperty, fmt.Sprintf("is not allowed here: this factor has only %q", name))
		}
	}
	sv, present := m[name]
	np := member(p, name)
	if !present {
		c.violation(&np, RuleRequired, "is required")
		return "", false
	}
	return c.wantString(sv, &np)
}

// base32Upper reports whether s matches ^[A-Z2-7]+$.
func base32Upper(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '2' && s[i] <= '7') {
			return false
		}
	}
	return true
}
