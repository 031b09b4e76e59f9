package mapfunc

import (
	"strings"
)

// iso3166 lists the 249 officially assigned ISO 3166-1 alpha-2 codes (as in
// the tz database's iso3166.tab) plus XK, the user-assigned code for Kosovo
// that the EU and most IdPs use. Codes are separated by one space, so a
// two-letter substring match is always a whole code.
const iso3166 = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
	"MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
	"UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK"

// countryCode returns the ISO 3166-1 alpha-2 code for a two-letter value in
// any case, or "" when it is not an assigned code. UK, which people (and
// some social providers) write for the United Kingdom, is read as GB.
func countryCode(s string) string {
	if len(s) != 2 || !isAlpha(s) {
		return ""
	}
	s = strings.ToUpper(s)
	if s == "UK" {
		return "GB"
	}
	if !assigned[s[0]-'A'][s[1]-'A'] {
		return ""
	}
	return s
}

// assigned is iso3166 as a table of the two letters, for countryCode.
var assigned = func() (t [26][26]bool) {
	for _, c := range strings.Fields(iso3166) {
		t[c[0]-'A'][c[1]-'A'] = true
	}
	return t
}()

// langTag is a parsed BCP 47 language tag in canonical case.
type langTag struct {
	tag    string // the whole tag, e.g. "zh-Hant-TW"
	lang   string // "zh"
	region string // "TW", "419", or ""
}

// parseLocale reads a locale as Gigya and social providers write it: BCP 47
// (en-GB) or POSIX (en_GB, de_DE.UTF-8, de_DE@euro: the codeset and the
// modifier are dropped), in any case. It checks BCP 47 well-formedness
// (RFC 5646 section 2.1: a 2-3 letter language, up to three extlangs,
// script, region, variants, extensions, private use) and applies its case
// conventions: language lower, script title, region upper, the rest lower.
// It does not check that the subtags are registered. ok is false for
// anything else, including the POSIX locales "C" and "POSIX".
func parseLocale(s string) (t langTag, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i]
	}
	if s == "" || len(s) > 128 {
		return langTag{}, false
	}
	if len(s) == 5 && (s[2] == '_' || s[2] == '-') && isAlpha(s[:2]) && isAlpha(s[3:]) {
		// The commonest shape, language and region (en_GB), without the
		// general parse's allocations; the same result.
		var b [5]byte
		for i := range 5 {
			switch c := s[i]; {
			case i < 2:
				b[i] = c | 0x20
			case i > 2:
				b[i] = c &^ 0x20
			default:
				b[i] = '-'
			}
		}
		t.tag = string(b[:])
		t.lang, t.region = t.tag[:2], t.tag[3:]
		return t, true
	}
	subtags := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' })
	// FieldsFunc drops empty fields: "en--US" and "-en" must fail.
	if len(subtags) == 0 || strings.Count(s, "-")+strings.Count(s, "_") != len(subtags)-1 {
		return langTag{}, false
	}
	for _, st := range subtags {
		if len(st) > 8 || !isAlnum(st) {
			return langTag{}, false
		}
	}
	out := make([]string, 0, len(subtags))
	i := 0
	// language: 2-3 letters (ISO 639). BCP 47 also allows 5-8 letters for
	// registered languages, but none is registered, and accepting them
	// would turn "english" into a tag.
	lang := subtags[0]
	if !isAlpha(lang) || len(lang) < 2 || len(lang) > 3 {
		return langTag{}, false
	}
	t.lang = strings.ToLower(lang)
	out = append(out, t.lang)
	i++
	// extlang: up to three 3-letter subtags.
	for n := 0; n < 3 && i < len(subtags) && len(subtags[i]) == 3 && isAlpha(subtags[i]); n++ {
		out = append(out, strings.ToLower(subtags[i]))
		i++
	}
	// script: 4 letters.
	if i < len(subtags) && len(subtags[i]) == 4 && isAlpha(subtags[i]) {
		out = append(out, strings.ToUpper(subtags[i][:1])+strings.ToLower(subtags[i][1:]))
		i++
	}
	// region: 2 letters or 3 digits.
	if i < len(subtags) && (len(subtags[i]) == 2 && isAlpha(subtags[i]) || len(subtags[i]) == 3 && isDigits(subtags[i])) {
		t.region = strings.ToUpper(subtags[i])
		out = append(out, t.region)
		i++
	}
	// variants: 5-8 alphanumerics, or a digit and 3 alphanumerics.
	for i < len(subtags) && (len(subtags[i]) >= 5 || len(subtags[i]) == 4 && isDigits(subtags[i][:1])) {
		out = append(out, strings.ToLower(subtags[i]))
		i++
	}
	// extensions (a singleton other than x, then subtags of 2-8) and
	// private use (x, then subtags of 1-8).
	for i < len(subtags) {
		single := strings.ToLower(subtags[i])
		if len(single) != 1 {
			return langTag{}, false
		}
		minLen := 2
		if single == "x" {
			minLen = 1
		}
		out = append(out, single)
		i++
		n := 0
		for i < len(subtags) && len(subtags[i]) >= minLen && (single == "x" || len(subtags[i]) > 1) {
			out = append(out, strings.ToLower(subtags[i]))
			i++
			n++
		}
		if n == 0 {
			return langTag{}, false
		}
		if single == "x" && i < len(subtags) {
			return langTag{}, false
		}
	}
	t.tag = strings.Join(out, "-")
	return t, true
}

// localeArg reads a helper's single locale argument. ok is false for nil,
// blank and unparseable strings.
func localeArg(name string, v any) (t langTag, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return langTag{}, false, nil
	case string:
		t, ok = parseLocale(x)
		return t, ok, nil
	}
	return langTag{}, false, typeError(name, "a string", v)
}

func localeTag(params ...any) (any, error) {
	t, ok, err := localeArg("locale", arg(params, 0))
	if !ok || err != nil {
		return nil, err
	}
	return t.tag, nil
}

func language(params ...any) (any, error) {
	t, ok, err := localeArg("language", arg(params, 0))
	if !ok || err != nil {
		return nil, err
	}
	return t.lang, nil
}

// country reads a country field or a locale. A value without - or _ is a
// country field: two letters are a code ("de" → "DE"), an English name or a
// common alias is read as its code ("Germany", "United States of America",
// "Great Britain"); anything else (a name in another language, an alpha-3
// code) is nil, and a mapping that must not lose it keeps the text, as
// country_name does. A value with a separator is a name if it is one
// ("Guinea-Bissau"), else a locale and gives its region. So country("en")
// is nil ("EN" is no country) but country("sv") is "SV", El Salvador: pass
// locales with a region.
func country(params ...any) (any, error) {
	v := arg(params, 0)
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, typeError("country", "a string", v)
	}
	if c := countryOf(s); c != "" {
		if c == s {
			return v, nil // already a code: the argument as it came, not boxed again
		}
		return c, nil
	}
	return nil, nil
}

// countryOf is country's reading of s, "" for none.
func countryOf(s string) string {
	s = strings.TrimSpace(s)
	if c := countryCode(s); c != "" {
		return c
	}
	if len(s) > 2 {
		if c := countryByName(s); c != "" {
			return c
		}
	}
	if strings.ContainsAny(s, "-_") {
		t, ok := parseLocale(s)
		if !ok {
			return ""
		}
		return countryCode(t.region)
	}
	return ""
}

// countryName gives the English name of the country a value or locale
// names (country's reading), or the value as written, trimmed, when it
// names none: a target with a free-text country name keeps what Gigya had
// rather than nothing.
func countryName(params ...any) (any, error) {
	v := arg(params, 0)
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, typeError("country_name", "a string", v)
	}
	if c := countryOf(s); c != "" {
		return countryNames[c], nil
	}
	if s = strings.TrimSpace(s); s == "" {
		return nil, nil
	}
	return s, nil
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9') && !(c|0x20 >= 'a' && c|0x20 <= 'z') {
			return false
		}
	}
	return s != ""
}
