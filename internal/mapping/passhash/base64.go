package passhash

import (
	"encoding/base64"
	"errors"
	"strings"
)

// decodeBase64 decodes a base64 salt or hash from a Gigya export.
//
// It is deliberately a little lenient, and only where the result cannot be
// ambiguous:
//
//   - padding may be missing, correct, or superfluous (at most two "="):
//     Auth0's published Gigya example has the salt "YWJjc29tZXRoaW5n==",
//     whose 16 characters already decode to "abcsomething"; the "==" is
//     invalid padding that Node's decoder ignores, and rejecting it would
//     lose real users;
//   - the URL-safe alphabet ("-", "_") is accepted when the string uses it
//     consistently, since those characters cannot mean anything else.
//
// Everything else is strict: characters outside the alphabet (including
// whitespace and "=" anywhere but the end), mixed alphabets, an impossible
// length, and non-zero trailing bits are errors. Trailing bits are checked
// because a lenient decoder maps several strings to the same bytes, which
// would hide corrupted data.
func decodeBase64(s string) ([]byte, error) {
	body := strings.TrimRight(s, "=")
	switch {
	case body == "":
		return nil, errors.New("empty")
	case len(s)-len(body) > 2:
		return nil, errors.New("more than two padding characters")
	}
	std, url := false, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		case c == '=':
			return nil, errors.New("padding inside the data")
		default:
			return nil, errors.New("character outside the base64 alphabet")
		}
	}
	if std && url {
		return nil, errors.New("mixes the standard and URL-safe alphabets")
	}
	enc := base64.RawStdEncoding.Strict()
	if url {
		enc = base64.RawURLEncoding.Strict()
	}
	b, err := enc.DecodeString(body)
	if err != nil {
		// The only causes left are a length of 1 mod 4 and non-zero
		// trailing bits; the decoder's message names the offset, not a value.
		return nil, errors.New("invalid length or trailing bits")
	}
	return b, nil
}
