package mapfunc

import (
	"strings"
	"testing"
)

func TestLocale(t *testing.T) {
	runCases(t, []tc{
		{src: `locale(profile.locale)`, want: "de-DE"},
		{src: `locale("en")`, want: "en"},
		{src: `locale("EN")`, want: "en"},
		{src: `locale("en-gb")`, want: "en-GB"},
		{src: `locale("EN_us")`, want: "en-US"},
		{src: `locale("zh_hant_tw")`, want: "zh-Hant-TW"},
		{src: `locale("sr-LATN-rs")`, want: "sr-Latn-RS"},
		{src: `locale("es-419")`, want: "es-419"},
		{src: `locale("de_DE.UTF-8")`, want: "de-DE"},
		{src: `locale("de_DE@euro")`, want: "de-DE"},
		{src: `locale("fil_PH")`, want: "fil-PH"},
		{src: `locale("zh-yue-HK")`, want: "zh-yue-HK"},
		{src: `locale("de-CH-1901")`, want: "de-CH-1901"},
		{src: `locale("sl-rozaj-biske")`, want: "sl-rozaj-biske"},
		{src: `locale("en-US-u-ca-gregory")`, want: "en-US-u-ca-gregory"},
		{src: `locale("en-x-Private")`, want: "en-x-private"},
		{src: `locale(" de_de ")`, want: "de-DE"},
		{src: `locale(nil)`, want: nil},
		{src: `locale("")`, want: nil},
		{src: `locale(profile.nothing)`, want: nil},
		// Not locales: nil, not an error (a descriptive attribute).
		{src: `locale("C")`, want: nil},
		{src: `locale("POSIX")`, want: nil},
		{src: `locale("german")`, want: nil},
		{src: `locale("Deutsch (Deutschland)")`, want: nil},
		{src: `locale("de--DE")`, want: nil},
		{src: `locale("-de")`, want: nil},
		{src: `locale("de-")`, want: nil},
		{src: `locale("de-DE-u")`, want: nil},
		{src: `locale("de-x")`, want: nil},
		{src: `locale("de-x-a-b-c")`, want: "de-x-a-b-c"},
		{src: `locale("de-DE-x-a-u")`, want: "de-DE-x-a-u"},
		{src: `locale("de-Latn-DE-Latn")`, want: nil},
		{src: `locale("de-toolongsubtag")`, want: nil},
		{src: `locale("12-DE")`, want: nil},
		{src: `locale("dé_DE")`, want: nil},
		{src: `locale(1)`, wantErr: "locale: want a string, got a number"},
	})
}

func TestLanguage(t *testing.T) {
	runCases(t, []tc{
		{src: `language(profile.locale)`, want: "de"},
		{src: `language("EN-us")`, want: "en"},
		{src: `language("fr")`, want: "fr"},
		{src: `language("zh_Hant_TW")`, want: "zh"},
		{src: `language("C")`, want: nil},
		{src: `language("")`, want: nil},
		{src: `language(nil)`, want: nil},
		{src: `language({})`, wantErr: "language: want a string, got an object"},
	})
}

func TestCountry(t *testing.T) {
	runCases(t, []tc{
		{src: `country(profile.country)`, want: "DE"},
		{src: `country(profile.locale)`, want: "DE"},
		{src: `country("us")`, want: "US"},
		{src: `country(" fr ")`, want: "FR"},
		{src: `country("en_GB")`, want: "GB"},
		{src: `country("zh-Hant-TW")`, want: "TW"},
		{src: `country("UK")`, want: "GB"},
		{src: `country("uk")`, want: "GB"},
		{src: `country("XK")`, want: "XK"},
		{src: `country("sv")`, want: "SV"}, // a bare two-letter value is a country code
		{src: `country("en")`, want: nil},  // ... and EN is none
		{src: `country("es-419")`, want: nil},
		{src: `country("zh-Hant")`, want: nil},
		{src: `country("de_XX")`, want: nil},
		{src: `country("Germany")`, want: "DE"}, // English names are read as their code
		{src: `country("united states of america")`, want: "US"},
		{src: `country("Great Britain")`, want: "GB"},
		{src: `country("Guinea-Bissau")`, want: "GW"}, // a name before a locale
		{src: `country("Cote d'Ivoire")`, want: "CI"},
		{src: `country("Bosnia & Herzegovina")`, want: "BA"},
		{src: `country("Deutschland")`, want: nil}, // not English: country_name keeps the text
		{src: `country("Atlantis")`, want: nil},
		{src: `country("DEU")`, want: nil},
		{src: `country("D")`, want: nil},
		{src: `country("D E")`, want: nil},
		{src: `country("C_")`, want: nil},
		{src: `country("")`, want: nil},
		{src: `country(nil)`, want: nil},
		{src: `{"Allemagne": "DE"}["Allemagne"] ?? country("Allemagne")`, want: "DE"}, // the way for other languages
		{src: `country(49)`, wantErr: "country: want a string, got a number"},
	})
}

// Issue: country names (not ISO codes) were dropped silently and LoginRadius'
// Country.Name never set. country_name gives the English name of whatever
// country() reads, and keeps any other text as written.
func TestCountryName(t *testing.T) {
	runCases(t, []tc{
		{src: `country_name("DE")`, want: "Germany"},
		{src: `country_name("de_AT")`, want: "Austria"},
		{src: `country_name("germany")`, want: "Germany"},
		{src: `country_name("UK")`, want: "United Kingdom"},
		{src: `country_name("Cote d'Ivoire")`, want: "Côte d'Ivoire"},
		{src: `country_name(" Deutschland ")`, want: "Deutschland"},
		{src: `country_name("")`, want: nil},
		{src: `country_name(nil)`, want: nil},
		{src: `country_name(1)`, wantErr: "country_name: want a string, got a number"},
	})
	for _, c := range strings.Fields(iso3166) {
		name := countryNames[c]
		if name == "" {
			t.Errorf("%s has no name", c)
			continue
		}
		if got := countryOf(name); got != c {
			t.Errorf("the name %q of %s reads as %q", name, c, got)
		}
	}
	if len(countryNames) != len(strings.Fields(iso3166)) {
		t.Errorf("%d names for %d codes", len(countryNames), len(strings.Fields(iso3166)))
	}
}

// The code table is the tz database's list plus XK, every code two upper-case
// letters, sorted except for the appended XK.
func TestISO3166Table(t *testing.T) {
	codes := strings.Split(iso3166, " ")
	if len(codes) != 250 {
		t.Fatalf("%d codes, want 249 + XK", len(codes))
	}
	for i, c := range codes {
		if len(c) != 2 || strings.ToUpper(c) != c || !isAlpha(c) {
			t.Errorf("bad code %q", c)
		}
		if i > 0 && i < len(codes)-1 && codes[i-1] >= c {
			t.Errorf("not sorted at %q", c)
		}
	}
	for _, c := range []string{"DE", "US", "GB", "FR", "JP", "CN", "BR", "IN", "ZA", "AX", "BQ", "SS", "XK"} {
		if countryCode(c) != c {
			t.Errorf("%s missing", c)
		}
	}
	for _, c := range []string{"EU", "EN", "XX", "AA", "ZZ", "EA", "DA"} {
		if countryCode(c) != "" {
			t.Errorf("%s accepted", c)
		}
	}
}
