package auth0verify

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeValue turns a hash, salt or key value into bytes per its
// documented encoding.
func decodeValue(value, encoding, path string) ([]byte, error) {
	switch encoding {
	case "utf8":
		return []byte(value), nil
	case "hex":
		if value == "" {
			return nil, malformed("%s: empty hex value", path)
		}
		b, err := hex.DecodeString(value) // both cases, as Auth0 documents
		if err != nil {
			return nil, malformed("%s: not hex", path)
		}
		return b, nil
	case "base64":
		b, err := decodeBase64(value)
		if err != nil {
			return nil, malformed("%s: not base64: %v", path, err)
		}
		return b, nil
	}
	return nil, malformed("%s: unknown encoding %q", path, encoding)
}

// decodeBase64 accepts the standard or the URL-safe alphabet (Auth0 accepts
// "url-encoded base64"), either correctly padded or unpadded, with zero
// trailing bits. Line breaks, which Go's decoder would skip, are rejected.
func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break")
	}
	url := strings.ContainsAny(s, "-_")
	if url && strings.ContainsAny(s, "+/") {
		return nil, errors.New("mixed alphabets")
	}
	padded := strings.HasSuffix(s, "=")
	var enc *base64.Encoding
	switch {
	case url && padded:
		enc = base64.URLEncoding
	case url:
		enc = base64.RawURLEncoding
	case padded:
		enc = base64.StdEncoding
	default:
		enc = base64.RawStdEncoding
	}
	return enc.Strict().DecodeString(s)
}

// decodeB64 decodes the PHC string format's "B64": the standard alphabet
// without padding, non-empty, zero trailing bits.
func decodeB64(s, path string) ([]byte, error) {
	if s == "" {
		return nil, malformed("%s: empty", path)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return nil, malformed("%s: %q is not a B64 character (standard alphabet, no padding)", path, c)
		}
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, malformed("%s: not B64: %v", path, err)
	}
	return b, nil
}

// encodePassword produces the bytes that were hashed, from the UTF-8
// password a user types, following Node.js Buffer.from(string, encoding):
// Auth0 documents that the password "will be transcoded from utf8" to
// password.encoding.
func encodePassword(password, encoding string) ([]byte, error) {
	if !utf8.ValidString(password) {
		return nil, errors.New("auth0verify: password is not valid UTF-8")
	}
	switch encoding {
	case "utf8":
		return []byte(password), nil
	case "utf16le", "ucs2": // Node treats ucs2 as an alias of utf16le
		units := utf16.Encode([]rune(password))
		b := make([]byte, 0, 2*len(units))
		for _, u := range units {
			b = append(b, byte(u), byte(u>>8))
		}
		return b, nil
	case "latin1", "binary", "ascii": // Node encodes ascii like latin1
		units := utf16.Encode([]rune(password))
		b := make([]byte, len(units))
		for i, u := range units {
			b[i] = byte(u)
		}
		return b, nil
	}
	return nil, malformed("password.encoding: unknown encoding %q", encoding)
}
