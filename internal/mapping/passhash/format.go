package passhash

import (
	"fmt"
	"strings"
)

// Placeholders of a Gigya pwHashFormat template.
const (
	tokenPassword = "$password"
	tokenSalt     = "$salt"
)

// affix is the hash input around the password: H(prefix + password + suffix).
type affix struct {
	prefix, suffix string
}

// splitFormat expands a Gigya format template around its "$password" and
// reports the constant text (with the clear-text salt spliced in) before
// and after the password.
//
// The template is read in one left-to-right pass, matching "$password" and
// "$salt" case-sensitively; every other character, including a "$" that
// starts neither, is literal text. This is how Gigya's own validator tool
// (PHP str_replace) and our sample generator read it, and it is the only
// reading under which "wikipedia$salt$password" (Gigya's own example: see
// docs/apis/gigya.md, "Hash algorithms and format templates") means what it
// says. The result is UTF-8 text; UTF-8 of a concatenation is the
// concatenation of the UTF-8 encodings, so folding the constant text into a
// salt is exact.
//
// Reasons never quote the template: its constant text can be a site-wide
// pepper.
//
// It returns a reason, and no affix, when the template cannot be reproduced
// faithfully as one of prefix+password or password+suffix:
//
//   - no "$password", or more than one (the password would be hashed twice);
//   - text on both sides of the password (Auth0 has a single salt position);
//   - a non-empty salt that the template never references (Gigya's
//     semantics for an unused salt are undocumented);
//   - a salt that itself contains "$password" or "$salt", where the result
//     would depend on the order in which Gigya substitutes placeholders.
func splitFormat(format, salt string) (affix, string) {
	var before, after strings.Builder
	out := &before
	passwords, salts := 0, 0
	for i := 0; i < len(format); {
		switch {
		case strings.HasPrefix(format[i:], tokenPassword):
			passwords++
			out = &after
			i += len(tokenPassword)
		case strings.HasPrefix(format[i:], tokenSalt):
			salts++
			out.WriteString(salt)
			i += len(tokenSalt)
		default:
			out.WriteByte(format[i])
			i++
		}
	}
	switch {
	case passwords == 0:
		return affix{}, "the format template has no $password"
	case passwords > 1:
		return affix{}, fmt.Sprintf("the format template uses $password %d times", passwords)
	case salts == 0 && salt != "":
		return affix{}, "the format template does not reference $salt although a salt is set"
	case salts > 0 && (strings.Contains(salt, tokenPassword) || strings.Contains(salt, tokenSalt)):
		return affix{}, "the salt contains a $password or $salt placeholder, so the expansion depends on Gigya's substitution order"
	case before.Len() > 0 && after.Len() > 0:
		return affix{}, "the format template puts text both before and after $password; the target takes a single salt position"
	}
	return affix{prefix: before.String(), suffix: after.String()}, ""
}
