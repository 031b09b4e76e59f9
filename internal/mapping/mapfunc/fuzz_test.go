package mapfunc

import (
	"reflect"
	"regexp"
	"testing"
)

// FuzzHelpers calls every helper with arbitrary strings in every argument
// position it takes (and nil in the others): no input may panic. For the
// helpers that normalise, it also checks the shape of the result and that
// normalising twice changes nothing.
func FuzzHelpers(f *testing.F) {
	for _, s := range []string{
		"", " ", "2019-03-14T09:26:53.589Z", "2019-03-14T10:26:53+01:00", "1552555613589", "1700000000.5",
		"-99999999999", "jane@example.com", "a@b@c", "+49 (0)151 1234-5678", "0049151", "(0151) 123", "tel:+1",
		"de_DE.UTF-8", "zh-Hant-TW-x-a", "en--", "m", "Female", "yes", "1988", "a.b$c", "\x00\xff", "(0)", "+(0)",
	} {
		f.Add(s)
	}
	hs := helpers()
	emailShape := regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	e164 := regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	rfc3339ms := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, h := range hs {
			for _, n := range arities(h.types) {
				for pos := range n {
					args := make([]any, n)
					args[pos] = s
					if _, err := h.fn(args...); err != nil {
						_ = err.Error()
					}
				}
				all := make([]any, n)
				for i := range all {
					all[i] = s
				}
				_, _ = h.fn(all...)
			}
		}

		idempotent(t, "gigya_time", gigyaTime, s, rfc3339ms)
		idempotent(t, "email", email, s, emailShape)
		idempotent(t, "phone_e164", phoneE164, s, e164)
		idempotent(t, "locale", localeTag, s, nil)
		for _, cc := range []string{"49", "1", "39"} {
			if out, err := phoneE164(s, cc); err == nil && out != nil && !e164.MatchString(out.(string)) {
				t.Errorf("phone_e164(%q, %q) = %q, not E.164", s, cc, out)
			}
		}
		if out, err := country(s); err == nil && out != nil && countryCode(out.(string)) != out {
			t.Errorf("country(%q) = %q, not a code", s, out)
		}
	})
}

// idempotent checks that a successful result matches shape (when given) and
// is returned unchanged when fed back.
func idempotent(t *testing.T, name string, fn func(...any) (any, error), in string, shape *regexp.Regexp) {
	t.Helper()
	out, err := fn(in)
	if err != nil || out == nil {
		return
	}
	s, ok := out.(string)
	if !ok {
		t.Fatalf("%s(%q) = %T", name, in, out)
	}
	if shape != nil && !shape.MatchString(s) {
		t.Errorf("%s(%q) = %q, wrong shape", name, in, s)
	}
	again, err := fn(s)
	if err != nil || again != out {
		t.Errorf("%s(%q) = %q, then %v, %v", name, in, s, again, err)
	}
}

// arities lists the argument counts the typed signatures allow (a variadic
// one: its fixed parameters plus 0, 1 and 3 more).
func arities(types []any) []int {
	var ns []int
	for _, ty := range types {
		ft := reflect.TypeOf(ty).Elem()
		if ft.IsVariadic() {
			fixed := ft.NumIn() - 1
			ns = append(ns, fixed, fixed+1, fixed+3)
			continue
		}
		ns = append(ns, ft.NumIn())
	}
	return ns
}
