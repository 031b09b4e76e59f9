package passhash

import (
	"bytes"
	"strings"
	"testing"
)

func TestDecodeBase64(t *testing.T) {
	good := map[string][]byte{
		"YWJjc29tZXRoaW5n":   []byte("abcsomething"), // canonical, no padding needed
		"YWJjc29tZXRoaW5n==": []byte("abcsomething"), // Auth0's published Gigya salt: superfluous "=="
		"YWJjZA==":           []byte("abcd"),
		"YWJjZA":             []byte("abcd"), // padding dropped
		"YWJjZA=":            []byte("abcd"), // half the padding
		"+/+/":               {0xfb, 0xff, 0xbf},
		"-_-_":               {0xfb, 0xff, 0xbf}, // URL-safe alphabet
	}
	for in, want := range good {
		got, err := decodeBase64(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("decodeBase64(%q) = %x, %v; want %x", in, got, err, want)
		}
	}
	for _, in := range []string{
		"",                     // empty
		"====",                 // only padding
		"YWJjZA===",            // three padding characters
		"YW=JjZA==",            // padding inside
		"YWJj ZA==",            // whitespace
		"YWJj\nZA==",           // line break (Go's decoder would skip it)
		"+/-_",                 // mixed alphabets
		"YWJjZ",                // length 1 mod 4
		"YWJjZB==",             // non-zero trailing bits ("abcd" is YWJjZA==)
		"0123456789abcdef012!", // outside the alphabet
	} {
		if got, err := decodeBase64(in); err == nil {
			t.Errorf("decodeBase64(%q) = %x, want an error", in, got)
		}
	}
}

func TestSplitFormat(t *testing.T) {
	cases := []struct {
		format, salt   string
		prefix, suffix string
		refused        bool
	}{
		{"$salt$password", "s4lt", "s4lt", "", false},
		{"$password$salt", "s4lt", "", "s4lt", false},
		{"wikipedia$salt$password", "s4lt", "wikipedias4lt", "", false},
		{"$password$saltXYZ", "s4lt", "", "s4ltXYZ", false},
		{"$passwordXYZ", "", "", "XYZ", false},
		{"X$password", "", "X", "", false},
		{"$password", "", "", "", false},
		{"$$password", "", "$", "", false},                // a "$" that starts no placeholder is text
		{"$salty$password", "s", "sy", "", false},         // "$salt" then "y"
		{"$Password$salt", "s", "", "", true},             // case-sensitive: no $password
		{"$salt$password$salt", "", "", "", false},        // empty salt: nothing around the password
		{"ä€$salt$password", "sält", "ä€sält", "", false}, // non-ASCII constant and salt
		{"$salt$password$salt", "s", "", "", true},        // both sides
		{"X$passwordY", "", "", "", true},                 // both sides, constants only
		{"$password$password", "", "", "", true},          // password twice
		{"$salt", "s", "", "", true},                      // no password
		{"", "", "", "", true},                            // no password
		{"$password", "s", "", "", true},                  // salt never referenced
		{"$salt$password", "a$password", "", "", true},    // expansion order would matter
		{"$password$salt", "$salt", "", "", true},
	}
	for _, c := range cases {
		a, reason := splitFormat(c.format, c.salt)
		if (reason != "") != c.refused || a.prefix != c.prefix || a.suffix != c.suffix {
			t.Errorf("splitFormat(%q, %q) = %+v, %q; want prefix %q suffix %q refused %v",
				c.format, c.salt, a, reason, c.prefix, c.suffix, c.refused)
		}
	}
	// Reasons end up in logs and dead-letter headers: they must not quote
	// the template (its constant text can be a pepper) or the salt.
	if _, reason := splitFormat("Pepper123$salt$password$salt", "S3cr3t"); reason == "" ||
		strings.Contains(reason, "Pepper123") || strings.Contains(reason, "S3cr3t") {
		t.Errorf("reason %q is empty or leaks template or salt text", reason)
	}
}
