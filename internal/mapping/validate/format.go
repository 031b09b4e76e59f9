package validate

import (
	"net/mail"
	"strings"
)

// Format checks shared by the targets. They are hand-written scanners, not
// regular expressions, because they run for every record: none of them
// allocates, except net/mail's parser for the rare address whose local part
// is not a plain dot-atom.

// Email limits from RFC 5321 §4.5.3.1: longer addresses cannot be
// delivered, and validator.js (a common JSON-schema `format: email`
// implementation for Node, as Auth0 is) rejects them too.
const (
	maxEmailLen = 254
	maxLocalLen = 64
	maxLabelLen = 63
)

// notBare is the message for an address that is more than an addr-spec.
const notBare = "is not a bare address (RFC 5322 addr-spec): no display name, <>, comments, quotes, spaces or consecutive dots: trim and clean it in the mapping"

// emailProblem returns why s is not an acceptable email address, or "" when
// it is. Auth0's schema says `format: email` (JSON Schema: an RFC 5322
// addr-spec) without naming its validator, so this accepts what the common
// validators agree on:
//
//   - exactly one bare addr-spec as net/mail parses it: no display name,
//     angle brackets, comments, quoted local part or surrounding spaces
//     (ParseAddress must return the input unchanged);
//   - a domain name with at least one dot (ajv and validator.js both
//     require one; "user@localhost" cannot receive Internet mail anyway),
//     labels of letters, digits, hyphens or non-ASCII (internationalised)
//     characters, 1–63 bytes, not starting or ending with a hyphen; no IP
//     literals ("user@[192.0.2.1]"), which both validators reject;
//   - at most 64 bytes before the @ and 254 in all (RFC 5321).
//
// It does not lower-case or otherwise change the address.
func emailProblem(s string) string {
	if s == "" {
		return "is empty: map a real address or leave the user out"
	}
	if len(s) > maxEmailLen {
		return "is longer than 254 bytes (RFC 5321): it cannot be delivered"
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "has no @"
	}
	if strings.ContainsAny(s, " \t\r\n<>()\",;:\\") {
		return notBare
	}
	local, domain := s[:at], s[at+1:]
	if local == "" {
		return "has nothing before the @"
	}
	if len(local) > maxLocalLen {
		return "has more than 64 bytes before the @ (RFC 5321)"
	}
	if p := domainProblem(domain); p != "" {
		return p
	}
	if dotAtom(local) {
		// The usual case, decided without net/mail's allocations: an ASCII
		// dot-atom local part and a domain checked above are exactly what
		// ParseAddress accepts unchanged.
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return notBare
	}
	return ""
}

// dotAtom reports whether s is an RFC 5322 dot-atom of ASCII atext:
// atoms of letters, digits and !#$%&'*+-/=?^_`{|}~ separated by single
// dots, no dot first or last.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// domainProblem checks the domain of an email address (see emailProblem).
func domainProblem(d string) string {
	switch {
	case d == "":
		return "has no domain after the @"
	case d[0] == '[':
		return "has an IP-literal domain, which email validators reject: use a domain name"
	case strings.IndexByte(d, '.') < 0:
		return "has a domain without a dot (e.g. user@localhost): use a full domain name"
	}
	start := 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			c := d[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80) {
				return "has a domain with a character other than letters, digits, '-' and '.'"
			}
			continue
		}
		label := d[start:i]
		switch {
		case label == "":
			return "has an empty label in its domain (leading, trailing or double dot)"
		case len(label) > maxLabelLen:
			return "has a domain label longer than 63 bytes"
		case label[0] == '-' || label[len(label)-1] == '-':
			return "has a domain label starting or ending with '-'"
		}
		start = i + 1
	}
	return ""
}

// e164Problem returns why s is not an E.164 phone number, or "". Auth0's
// schema pattern for phone numbers is ^\+[0-9]{1,15}$ (docs/apis/auth0.md,
// "User fields"); this also rejects a 0 right after the '+', because no E.164
// country code starts with 0: "+0049..." is a national or 00-prefixed number
// that was given a '+', which can never receive an SMS. That makes the check
// stricter than the schema, on purpose.
func e164Problem(s string) string {
	const how = " (E.164: '+', then country code and number, 1-15 digits in all, e.g. +12125550001)"
	if len(s) < 2 || s[0] != '+' {
		return "must start with '+' and the country code" + how
	}
	digits := s[1:]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "must contain only digits after the '+', no spaces, dashes or brackets" + how
		}
	}
	if len(digits) > 15 {
		return "has more than 15 digits" + how
	}
	if digits[0] == '0' {
		return "starts with 0 after the '+': no country code starts with 0, so drop the trunk or 00 prefix" + how
	}
	return ""
}

// hexLen returns the number of bytes s encodes as hex (either case).
func hexLen(s string) (int, bool) {
	if len(s)%2 != 0 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return 0, false
		}
	}
	return len(s) / 2, true
}

// b64Len returns the number of bytes s encodes as base64. Auth0 accepts
// "url-encoded base64" as well as standard base64 (docs/apis/auth0.md,
// "custom_password_hash"), so both alphabets are allowed, with or without '='
// padding; padding, when present, must be complete.
func b64Len(s string) (int, bool) {
	core := strings.TrimRight(s, "=")
	if pad := len(s) - len(core); pad > 2 || pad > 0 && len(s)%4 != 0 {
		return 0, false
	}
	for i := 0; i < len(core); i++ {
		c := core[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_') {
			return 0, false
		}
	}
	return rawB64Len(len(core))
}

// phcB64Problem checks s as the B64 of the PHC string format: standard
// alphabet, no padding, not empty. It returns the decoded length.
func phcB64Problem(s string) (int, string) {
	if s == "" {
		return 0, "is empty"
	}
	if strings.IndexByte(s, '=') >= 0 {
		return 0, "has '=' padding: PHC B64 omits it (decode and re-encode with base64.RawStdEncoding, do not just strip '=')"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return 0, "is not standard base64 (A-Z a-z 0-9 + /)"
		}
	}
	n, ok := rawB64Len(len(s))
	if !ok {
		return 0, "has a length no base64 encoding can have"
	}
	return n, ""
}

// rawB64Len is the decoded length of n unpadded base64 characters.
func rawB64Len(n int) (int, bool) {
	switch n % 4 {
	case 0:
		return n / 4 * 3, true
	case 2:
		return n/4*3 + 1, true
	case 3:
		return n/4*3 + 2, true
	}
	return 0, false
}

// decodedLen returns how many bytes value holds in the given Auth0
// encoding (hex, base64 or utf8).
func decodedLen(value, encoding string) (int, bool) {
	switch encoding {
	case "hex":
		return hexLen(value)
	case "base64":
		return b64Len(value)
	}
	return len(value), true
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
