package mapfunc

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

func email(params ...any) (any, error) {
	v := arg(params, 0)
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, typeError("email", "a string", v)
	}
	// Lower-casing the local part is not strictly right (RFC 5321 leaves it
	// to the receiving server) but it is what every IdP does with logins,
	// and Gigya treats emails case-insensitively too.
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return nil, nil
	}
	if problem := emailProblem(s); problem != "" {
		// The address itself stays out of the message: it is personal data.
		return nil, errors.New("email: not an email address: " + problem)
	}
	if s == in {
		return v, nil // already clean: the argument as it came, not boxed again
	}
	return s, nil
}

// emailProblem is a shape check, not RFC 5322 validation: it rejects what is
// clearly not one mailbox (no @, two @, a display name, a list, a domain
// without a dot) so that such records are dead-lettered here rather than
// rejected by the target's import job; the target may still be stricter
// (non-ASCII local parts, for example, are accepted here). It returns "" for
// an acceptable address.
func emailProblem(s string) string {
	at := strings.IndexByte(s, '@')
	switch {
	case at < 0:
		return "no @"
	case strings.IndexByte(s[at+1:], '@') >= 0:
		return "more than one @"
	case at == 0:
		return "nothing before the @"
	case at == len(s)-1:
		return "nothing after the @"
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII, the common case, without decoding
			switch c {
			case ',', ';', ':', '<', '>', '(', ')', '[', ']', '\\', '"':
				return fmt.Sprintf("the character %q", c)
			}
			if c <= ' ' || c == 0x7f {
				return "white space or control characters"
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError:
			return "invalid UTF-8"
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return "white space or control characters"
		}
		i += size
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "misplaced dot before the @"
	}
	if !strings.Contains(domain, ".") {
		return "the domain has no dot"
	}
	if domain[0] == '.' || domain[len(domain)-1] == '.' || strings.Contains(domain, "..") ||
		domain[0] == '-' || domain[len(domain)-1] == '-' {
		return "malformed domain"
	}
	return ""
}

const (
	// E.164 allows at most 15 digits, country code included. The shortest
	// numbers in use have 7 (Niue, Tokelau: 3-digit code + 4 digits).
	minE164Digits = 7
	maxE164Digits = 15
)

func phoneE164(params ...any) (any, error) {
	v := arg(params, 0)
	cc := ""
	switch d := arg(params, 1).(type) {
	case nil:
	case string:
		cc = d
	default:
		return nil, typeError("phone_e164: default country code", "a string like \"49\"", d)
	}
	// A bad default is a mapping bug: report it on every record, not only
	// on those that happen to hold a national number.
	if !blank(cc) {
		var err error
		if cc, err = countryCallingCode(cc); err != nil {
			return nil, err
		}
	}
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, typeError("phone_e164", "a string", v)
	}
	if blank(s) {
		return nil, nil
	}
	e, err := normalizePhone(s, cc)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// normalizePhone turns a phone number as people write it into E.164. It is a
// pragmatic normaliser, not libphonenumber:
//
//   - allowed are digits, white space, - . / ( ), one leading + and a
//     leading "tel:"; letters (vanity numbers, "ext. 12") are errors;
//   - + or a leading 00 (the ITU international prefix used in most of the
//     world) mean the country code follows; a "(0)" after it, as in
//     "+49 (0)151 …", is the national trunk prefix and is dropped;
//   - any other number is national and needs defaultCC, the country calling
//     code ("49" or "+49"). One leading 0 (the trunk prefix in most
//     countries) is dropped first, except where the 0 is part of the
//     number (keepsTrunkZero); for NANP (1) an 11-digit number starting
//     with its trunk prefix 1 loses the 1;
//   - an international number that starts with the default country code
//     followed by 0 ("+49 0151 …", "+49 (0151) …") loses that 0, with the
//     same exceptions;
//   - the result must be 7 to 15 digits and must not start with 0.
//
// Not handled (a phone library would): other trunk prefixes (8 in Russia
// and Kazakhstan, 06 in Hungary), other international prefixes (011 in
// NANP, 010 in Japan), numbers written internationally without + or 00
// ("4915112345678" with default "49" becomes +494915112345678), and per
// country length or range checks: a well-formed but unassigned number
// passes.
func normalizePhone(s, defaultCC string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s = s[4:]
	}
	var buf [maxE164Digits + 4]byte // + 00 or room to see "too long"
	digits := buf[:0]
	plus := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= '0' && r <= '9':
			if len(digits) == cap(digits) {
				return "", errors.New("phone_e164: too many digits for E.164 (at most 15)")
			}
			digits = append(digits, byte(r))
		case r == '+':
			if plus || len(digits) > 0 {
				return "", errors.New("phone_e164: + is only allowed at the start")
			}
			plus = true
		case r == '(' && strings.HasPrefix(s[i+1:], "0)") && len(digits) > 0 &&
			(plus || (len(digits) > 2 && digits[0] == '0' && digits[1] == '0')):
			size += 2 // "+49 (0)151": skip the trunk 0 with its parentheses
		case r == '-' || r == '.' || r == '/' || r == '(' || r == ')' || unicode.IsSpace(r):
		default:
			return "", fmt.Errorf("phone_e164: not a phone number: unexpected character %q", r)
		}
		i += size
	}
	if len(digits) == 0 {
		return "", errors.New("phone_e164: not a phone number: no digits")
	}

	var number string
	switch {
	case plus:
		number = string(digits)
	case len(digits) > 2 && digits[0] == '0' && digits[1] == '0':
		number = string(digits[2:])
	}
	if number != "" {
		// "+49 0151 …" and "+49 (0151) …": a trunk 0 written after the
		// country code. Without a country table the code's length is
		// unknown, so this is only fixed for the default country.
		if cc := strings.TrimPrefix(strings.TrimSpace(defaultCC), "+"); cc != "" && !keepsTrunkZero(cc) &&
			len(number) > len(cc) && strings.HasPrefix(number, cc) && number[len(cc)] == '0' {
			number = cc + number[len(cc)+1:]
		}
	} else {
		cc, err := countryCallingCode(defaultCC)
		if err != nil {
			return "", err
		}
		national := string(digits)
		switch {
		case cc == "1" && len(national) == 11 && national[0] == '1':
			national = national[1:]
		case national[0] == '0' && !keepsTrunkZero(cc):
			national = national[1:]
		}
		number = cc + national
	}
	switch {
	case number == "" || number[0] == '0':
		return "", errors.New("phone_e164: the country code cannot start with 0")
	case len(number) < minE164Digits:
		return "", fmt.Errorf("phone_e164: %d digits, too short for E.164 (at least %d)", len(number), minE164Digits)
	case len(number) > maxE164Digits:
		return "", fmt.Errorf("phone_e164: %d digits, too long for E.164 (at most %d)", len(number), maxE164Digits)
	}
	return "+" + number, nil
}

// countryCallingCode validates the default country calling code given to
// phone_e164: 1 to 3 digits, not starting with 0, with an optional +.
func countryCallingCode(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	if s == "" {
		return "", errors.New("phone_e164: national number and no default country code (pass one, like phone_e164(v, \"49\"))")
	}
	if len(s) > 3 || s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return "", fmt.Errorf("phone_e164: default country code %s is not a calling code like \"49\"", quote(s))
	}
	return s, nil
}

// keepsTrunkZero reports whether a national number of the country keeps its
// leading 0 in E.164, because the country has no trunk prefix and the 0 is
// part of the number: Italy and San Marino (+39 06 …, +378 0549 …) and Côte
// d'Ivoire since its 2021 ten-digit plan (+225 07 …).
func keepsTrunkZero(cc string) bool {
	return cc == "39" || cc == "378" || cc == "225"
}

func firstPhone(params ...any) (any, error) {
	const name = "first_phone"
	v := arg(params, 0)
	want := ""
	switch t := arg(params, 1).(type) {
	case nil:
	case string:
		want = strings.TrimSpace(t)
	default:
		return nil, typeError(name+": type", "a string", t)
	}
	var list []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = x
	case map[string]any: // a single phone instead of an array
		list = []any{x}
	case []map[string]any:
		for i, p := range x {
			if n, err := phoneEntry(name, i, p, want); n != "" || err != nil {
				return nilIfEmpty(n), err
			}
		}
		return nil, nil
	default:
		return nil, typeError(name, "an array of {number, type} objects", v)
	}
	for i, e := range list {
		var p map[string]any
		switch x := e.(type) {
		case nil:
			continue
		case map[string]any:
			p = x
		default:
			return nil, fmt.Errorf("%s: phones[%d] is %s, not an object", name, i, kindOf(e))
		}
		if n, err := phoneEntry(name, i, p, want); n != "" || err != nil {
			return nilIfEmpty(n), err
		}
	}
	return nil, nil
}

// phoneEntry returns the trimmed number of one phones entry, or "" when it
// has none or is not of the wanted type.
func phoneEntry(name string, i int, p map[string]any, want string) (string, error) {
	if want != "" {
		t, _ := p["type"].(string)
		if !strings.EqualFold(strings.TrimSpace(t), want) {
			return "", nil
		}
	}
	switch n := p["number"].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(n), nil
	default:
		return "", fmt.Errorf("%s: phones[%d].number is %s, not a string", name, i, kindOf(n))
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// emailList normalises a list of addresses with email(): v is one address
// or an array of them (nil elements skipped), and so is exclude. It keeps
// the first of duplicates (after normalisation) and leaves out those in
// exclude, in order; nil when none is left. An element that is not an
// address is an error, as in email().
func emailList(params ...any) (any, error) {
	const name = "email_list"
	list, err := addresses(name, arg(params, 0))
	if err != nil {
		return nil, err
	}
	drop, err := addresses(name+": exclude", arg(params, 1))
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(list)+len(drop))
	for _, a := range drop {
		seen[a] = true
	}
	var out []any
	for _, a := range list {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// addresses reads email_list's arguments into normalised addresses.
func addresses(name string, v any) ([]string, error) {
	var items []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		items = []any{x}
	case []any:
		items = x
	case []string:
		for _, s := range x {
			items = append(items, s)
		}
	default:
		return nil, typeError(name, "an address or an array of addresses", v)
	}
	var out []string
	for _, it := range items {
		e, err := email(it)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out, nil
}
