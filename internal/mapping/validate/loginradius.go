package validate

import (
	"fmt"
	"strings"
)

// LoginRadiusMaxUserSize is the size, in bytes of compact JSON, above which a
// LoginRadius user is a violation: the bulk migration API takes at most 10 MB
// per request (docs/apis/loginradius.md, "Request size"), so a bigger user
// fits in none. 10 MiB rather than 10,000,000 so that this never rejects a
// user the API would take; the loginradius-bulk sink packs requests with its
// own (configurable) limit.
const LoginRadiusMaxUserSize = 10 << 20

// LoginRadius rule ids, beside the shared ones.
const (
	// RuleLRUid: LoginRadius error 1200, "The uid can contains alphabets,
	// digits, underscore and dash only and length must be between 1 to 50".
	RuleLRUid = "uid_format"
	// RuleEmailType: more than one Primary address in Email.
	RuleEmailType = "email_type"
	// RuleEmailTwice: one address both in Email and UnverifiedEmail.
	RuleEmailTwice = "email_twice"
	// RuleCustomFieldType: a CustomFields value that is not a string.
	RuleCustomFieldType = "custom_field_type"
	// RulePasswordEncryption: PasswordHash and PasswordEncryption do not go
	// together (one without the other, a per-user salt missing, no Type).
	RulePasswordEncryption = "password_encryption"
)

// NewLoginRadius returns the validator for LoginRadius user profiles, as sent
// in the Profiles array of the bulk migration API (with this project's
// PasswordEncryption member, which the loginradius-bulk sink lifts into the
// request) or as the body of Account Create. Its rules come from
// docs/apis/loginradius.md ("Profile", "Errors"); the package documentation
// lists them with their sources. [Options] do not apply to LoginRadius and
// are ignored.
func NewLoginRadius(Options) Validator { return loginRadius{} }

type loginRadius struct{}

// lrStrings are the profile members that are strings in LoginRadius'
// profile model (the Go SDK's profile struct and sample, the Account Create
// example). UserName is the profile's spelling, Username Account Create's.
var lrStrings = map[string]bool{
	"Uid": true, "UserName": true, "Username": true, "FirstName": true, "LastName": true, "MiddleName": true,
	"FullName": true, "NickName": true, "PhoneId": true, "PhoneID": true, "PasswordHash": true, "Password": true,
	"State": true, "City": true, "Gender": true, "BirthDate": true, "CreatedDate": true, "UpdatedTime": true,
	"LastLoginDate": true, "ImageUrl": true, "ThumbnailImageUrl": true, "ProfileUrl": true, "Company": true,
}

// lrBools are the boolean members.
var lrBools = map[string]bool{
	"EmailVerified": true, "PhoneIdVerified": true, "PhoneIDVerified": true, "IsActive": true,
	"IsDeleted": true, "IsEmailSubscribed": true,
}

// Validate implements [Validator].
func (l loginRadius) Validate(user map[string]any) Result {
	return validateMap(l.ValidateFields, user)
}

// ValidateFields implements [Validator].
func (loginRadius) ValidateFields(user *Fields) Result {
	var c checker
	size := 2
	if len(user.Keys) > 0 {
		size += 2*len(user.Keys) - 1
	}
	login := false
	for i, k := range user.Keys {
		v := user.Values[i]
		p := pathNode{key: k}
		if k == "" || k[0] < 'A' || k[0] > 'Z' {
			c.warning(&p, RulePascalCase, "LoginRadius field names are PascalCase (Email, FirstName, ...): this one may be ignored, check the mapping")
		}
		switch {
		case k == "Email":
			login = checkLREmails(&c, v, &p) > 0 || login
		case k == "UnverifiedEmail":
			checkLREmails(&c, v, &p)
		case k == "Uid":
			if s, ok := c.wantString(v, &p); ok && !lrUidOK(s) {
				c.violation(&p, RuleLRUid, "LoginRadius takes a Uid of 1 to 50 letters, digits, '_' and '-' (its error 1200)")
			}
		case k == "PhoneId" || k == "PhoneID":
			if s, ok := c.wantString(v, &p); ok && s != "" {
				login = true
				if msg := e164Problem(s); msg != "" {
					c.warning(&p, RuleE164, msg+" (LoginRadius' PhoneId format is unconfirmed; E.164 is what the mapping writes)")
				}
			}
		case k == "Password":
			if _, ok := asString(v); !ok {
				c.typeViolation(&p, "a string: Password is a plaintext password (Account API); a hash goes in PasswordHash", v)
			}
		case lrStrings[k]:
			c.wantString(v, &p)
		case lrBools[k]:
			c.wantBool(v, &p)
		case k == "Country":
			if m, ok := c.wantObject(v, &p); ok {
				for _, f := range []string{"Code", "Name"} {
					if fv, present := m[f]; present {
						fp := member(&p, f)
						c.wantString(fv, &fp)
					}
				}
			}
		case k == "CustomFields":
			checkLRCustomFields(&c, v, &p)
		case k == "Identities":
			login = checkLRIdentities(&c, v, &p) > 0 || login
		case k == "Addresses" || k == "PhoneNumbers":
			checkLRObjectArray(&c, v, &p)
		case k == "PasswordEncryption":
			if m, ok := c.wantObject(v, &p); ok {
				tp := member(&p, "Type")
				if t, present := m["Type"]; !present {
					c.violation(&tp, RuleRequired, "is required: the hashing algorithm, e.g. \"PBKDF2\"")
				} else {
					c.wantString(t, &tp)
				}
				if b, present := m["IsPerPasswordSalt"]; present {
					bp := member(&p, "IsPerPasswordSalt")
					c.wantBool(b, &bp)
				}
			}
		}
		n, ok := user.keySize(i)
		if !ok {
			c.violation(&p, RuleInvalidUTF8, "this key is not valid UTF-8: JSON encoding would alter it")
		}
		size += n + c.walkValue(v, &p, false)
	}
	checkLRPassword(&c, user)
	checkLREmailTwice(&c, user)
	if !login {
		c.violation(nil, RuleRequired, "a LoginRadius profile needs a login: an Email, a PhoneId or a social identity (Identities); this account has none")
	}
	if size > LoginRadiusMaxUserSize {
		c.violation(nil, RuleMaxSize, fmt.Sprintf("the user is about %d bytes as JSON, more than one LoginRadius migration request may carry (10 MB): move data out of the profile", size))
	}
	return c.result()
}

// lrUidOK is LoginRadius' Uid rule (error 1200).
func lrUidOK(s string) bool {
	if len(s) < 1 || len(s) > 50 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkLREmails checks Email (or UnverifiedEmail): [{"Type": "Primary",
// "Value": "..."}], at most one Primary. It returns the number of valid
// addresses.
func checkLREmails(c *checker, v any, p *pathNode) int {
	items, ok := asArray(v)
	if !ok {
		c.typeViolation(p, `an array of {"Type": "Primary", "Value": "<address>"} objects`, v)
		return 0
	}
	valid, primaries := 0, 0
	for i, item := range items {
		ip := elem(p, i)
		m, ok := c.wantObject(item, &ip)
		if !ok {
			continue
		}
		tp := member(&ip, "Type")
		if t, present := m["Type"]; !present {
			c.violation(&tp, RuleRequired, `is required: the kind of address, e.g. "Primary"`)
		} else if s, ok := c.wantString(t, &tp); ok && strings.EqualFold(s, "Primary") {
			primaries++
			if primaries == 2 {
				c.violation(&tp, RuleEmailType, "a second Primary address: a LoginRadius profile has one Primary email, the others are Secondary")
			}
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
			} else {
				valid++
			}
		}
	}
	return valid
}

// checkLREmailTwice reports an address that is both in Email and in
// UnverifiedEmail.
func checkLREmailTwice(c *checker, user *Fields) {
	in := map[string]bool{}
	email, _ := user.get("Email")
	for _, v := range lrAddresses(email) {
		in[strings.ToLower(v)] = true
	}
	p := pathNode{key: "UnverifiedEmail"}
	unverified, _ := user.get("UnverifiedEmail")
	for i, v := range lrAddresses(unverified) {
		if in[strings.ToLower(v)] {
			ip := elem(&p, i)
			vp := member(&ip, "Value")
			c.violation(&vp, RuleEmailTwice, "this address is also in Email: an address is either a (verified or login) Email or an UnverifiedEmail")
		}
	}
}

// lrAddresses returns the Value of each item of an Email array, "" for an
// item without one.
func lrAddresses(v any) []string {
	items, _ := asArray(v)
	out := make([]string, len(items))
	for i, item := range items {
		if m, ok := asObject(item); ok {
			out[i], _ = asString(m["Value"])
		}
	}
	return out
}

// checkLRCustomFields checks that CustomFields is an object of strings, as
// LoginRadius' SDKs type it.
func checkLRCustomFields(c *checker, v any, p *pathNode) {
	m, ok := c.wantObject(v, p)
	if !ok {
		return
	}
	for k, fv := range m {
		if _, ok := asString(fv); !ok {
			fp := member(p, k)
			c.violation(&fp, RuleCustomFieldType, fmt.Sprintf("a custom field is text in LoginRadius, this one is %s: convert it (custom_fields() does)", typeName(fv)))
		}
	}
}

// checkLRIdentities checks Identities: an array of profiles, each with a
// Provider and the provider's user ID. It returns how many are complete.
func checkLRIdentities(c *checker, v any, p *pathNode) int {
	items, ok := asArray(v)
	if !ok {
		c.typeViolation(p, `an array of {"Provider": ..., "ID": ...} objects`, v)
		return 0
	}
	n := 0
	for i, item := range items {
		ip := elem(p, i)
		m, ok := c.wantObject(item, &ip)
		if !ok {
			continue
		}
		complete := true
		for _, f := range []string{"Provider", "ID"} {
			fp := member(&ip, f)
			fv, present := m[f]
			if !present {
				c.violation(&fp, RuleRequired, "is required: a social identity is its provider and the provider's user id")
				complete = false
				continue
			}
			if s, ok := c.wantString(fv, &fp); !ok || s == "" {
				complete = false
			}
		}
		if e, present := m["Email"]; present {
			ep := member(&ip, "Email")
			checkLREmails(c, e, &ep)
		}
		if complete {
			n++
		}
	}
	return n
}

// checkLRObjectArray checks that v is an array of objects (Addresses,
// PhoneNumbers).
func checkLRObjectArray(c *checker, v any, p *pathNode) {
	items, ok := asArray(v)
	if !ok {
		c.typeViolation(p, "an array of objects", v)
		return
	}
	for i, item := range items {
		ip := elem(p, i)
		c.wantObject(item, &ip)
	}
}

// checkLRPassword checks that PasswordHash and PasswordEncryption go
// together: one encryption per hash, and a per-user salt after ":" when
// IsPerPasswordSalt says there is one (LoginRadius' hashing page stores such
// hashes as "[hash]:RS").
func checkLRPassword(c *checker, user *Fields) {
	hash, hasHash := user.get("PasswordHash")
	enc, hasEnc := user.get("PasswordEncryption")
	switch {
	case hasHash && !hasEnc:
		p := pathNode{key: "PasswordHash"}
		c.violation(&p, RulePasswordEncryption, "a PasswordHash needs the PasswordEncryption it was made with (loginradius_password_encryption)")
		return
	case hasEnc && !hasHash:
		p := pathNode{key: "PasswordEncryption"}
		c.violation(&p, RulePasswordEncryption, "a PasswordEncryption without a PasswordHash: the user would share a request's encryption for nothing")
		return
	case !hasHash:
		return
	}
	h, ok1 := asString(hash)
	m, ok2 := asObject(enc)
	if !ok1 || !ok2 {
		return // type violations already reported
	}
	if per, _ := asBool(m["IsPerPasswordSalt"]); per && !strings.Contains(h, ":") && !strings.HasPrefix(h, "Rfc2898DeriveBytes$") {
		p := pathNode{key: "PasswordHash"}
		c.violation(&p, RulePasswordEncryption, "IsPerPasswordSalt is true but PasswordHash has no \":<salt>\"")
	}
	if h == "" {
		p := pathNode{key: "PasswordHash"}
		c.violation(&p, RulePasswordEncryption, "an empty PasswordHash")
	}
}
