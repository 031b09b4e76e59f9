package mapping

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/segmentio/encoding/json"
)

// TestAppendStringMatchesTheLibrary checks the plain-string shortcut
// against the library's escaping and the validators' measure, with every
// byte that ends it at every position of an 18-byte string (both sides of
// the eight-byte steps) and of every string up to nine bytes.
func TestAppendStringMatchesTheLibrary(t *testing.T) {
	specials := []string{"\"", "\\", "<", ">", "&", "\x00", "\x1f", "\x7f", "é", "\xff", "\u2028", " ", "~"}
	var cases []string
	for _, sp := range specials {
		for i := 0; i <= 17; i++ {
			cases = append(cases, strings.Repeat("a", i)+sp+strings.Repeat("b", 17-i))
		}
		for n := 1; n <= 9; n++ { // short ones: every length, every position
			for i := 0; i < n; i++ {
				cases = append(cases, strings.Repeat("a", i)+sp+strings.Repeat("b", n-1-i))
			}
		}
	}
	for n := 0; n <= 17; n++ {
		cases = append(cases, strings.Repeat("x", n))
	}
	cases = append(cases, "", "plain ascii value", "user@example.com")
	for _, s := range cases {
		want := json.AppendEscape(nil, s, json.EscapeHTML)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
		got, n, valid := appendMeasured([]byte("x"), s)
		wn, wvalid := validate.StringSize(s)
		if !bytes.Equal(got[1:], want) || n != wn || valid != wvalid {
			t.Errorf("appendMeasured(%q) = %s %d %v, want %s %d %v", s, got[1:], n, valid, want, wn, wvalid)
		}
	}
}
