package mapfunc

import (
	"strings"
	"testing"
)

func TestEmail(t *testing.T) {
	runCases(t, []tc{
		{src: `email(profile.email)`, want: "jane.doe@example.com"},
		{src: `email(loginIDs.emails[0])`, want: "jane.doe@example.com"},
		{src: `email("JANE+tag@Sub.Example.co.uk")`, want: "jane+tag@sub.example.co.uk"},
		{src: `email("o'brien@example.ie")`, want: "o'brien@example.ie"},
		{src: `email("jürgen@bücher.de")`, want: "jürgen@bücher.de"},
		{src: `email("\tjane@example.com\n")`, want: "jane@example.com"},
		{src: `email(nil)`, want: nil},
		{src: `email(profile.nothing)`, want: nil},
		{src: `email("")`, want: nil},
		{src: `email("   ")`, want: nil},
		{src: `email("jane.example.com")`, wantErr: "email: not an email address: no @"},
		{src: `email("jane@doe@example.com")`, wantErr: "more than one @"},
		{src: `email("@example.com")`, wantErr: "nothing before the @"},
		{src: `email("jane@")`, wantErr: "nothing after the @"},
		{src: `email("jane@localhost")`, wantErr: "the domain has no dot"},
		{src: `email("jane doe@example.com")`, wantErr: "white space"},
		{src: `email("Jane <jane@example.com>")`, wantErr: "white space"},
		{src: `email("<jane@example.com>")`, wantErr: `the character '<'`},
		{src: `email("jane@example.com,joe@example.com")`, wantErr: "more than one @"},
		{src: `email("jane@example.com;")`, wantErr: `the character ';'`},
		{src: `email(".jane@example.com")`, wantErr: "misplaced dot"},
		{src: `email("jane.@example.com")`, wantErr: "misplaced dot"},
		{src: `email("ja..ne@example.com")`, wantErr: "misplaced dot"},
		{src: `email("jane@example..com")`, wantErr: "malformed domain"},
		{src: `email("jane@.example.com")`, wantErr: "malformed domain"},
		{src: `email("jane@example.com.")`, wantErr: "malformed domain"},
		{src: `email("jane@-example.com")`, wantErr: "malformed domain"},
		{src: `email(1)`, wantErr: "email: want a string, got a number"},
		{src: `email(loginIDs.emails)`, wantErr: "got an array"},
	})
}

// Errors must not carry the address: they end up in logs.
func TestEmailErrorHasNoAddress(t *testing.T) {
	for _, in := range []string{"secret.person", "secret@person", "secret person@example.com", "secret@@example.com"} {
		_, err := email(in)
		if err == nil {
			t.Fatalf("%q: want an error", in)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: error %q leaks the address", in, err)
		}
	}
}

func TestPhoneE164(t *testing.T) {
	runCases(t, []tc{
		// International writing.
		{src: `phone_e164("+4915112345678")`, want: "+4915112345678"},
		{src: `phone_e164("+49 151 1234-5678")`, want: "+4915112345678"},
		{src: `phone_e164("+49 (151) 1234 5678")`, want: "+4915112345678"},
		{src: `phone_e164("+49 (0)151 12345678")`, want: "+4915112345678"},
		{src: `phone_e164("+44 (0) 20 7946 0958")`, want: "+442079460958"},
		{src: `phone_e164("0049 151 12345678")`, want: "+4915112345678"},
		{src: `phone_e164("0049 (0)151 12345678")`, want: "+4915112345678"},
		{src: `phone_e164("00 49 151.1234.5678", "33")`, want: "+4915112345678"},
		{src: `phone_e164("+1 (212) 555-0001")`, want: "+12125550001"},
		{src: `phone_e164("tel:+1-212-555-0001")`, want: "+12125550001"},
		{src: `phone_e164("+49\u00a0151\u00a012345678")`, want: "+4915112345678"}, // no-break spaces
		{src: `phone_e164(" +39 06 1234 5678 ")`, want: "+390612345678"},
		{src: `phone_e164("+683 4002")`, want: "+6834002"},                // 7 digits, the shortest
		{src: `phone_e164("+123456789012345")`, want: "+123456789012345"}, // 15, the longest
		{src: `phone_e164(profile.phones[1].number)`, want: "+4915112345678"},
		// National writing with a default country calling code.
		{src: `phone_e164("(0151) 12345678", "49")`, want: "+4915112345678"},
		{src: `phone_e164("0151/1234-5678", "+49")`, want: "+4915112345678"},
		{src: `phone_e164(profile.phones[0].number, "49")`, want: "+49301234567"},
		{src: `phone_e164("020 7946 0958", "44")`, want: "+442079460958"},
		{src: `phone_e164("06 1234 5678", "39")`, want: "+390612345678"},  // Italy keeps the 0
		{src: `phone_e164("0549 123456", "378")`, want: "+3780549123456"}, // San Marino too
		{src: `phone_e164("(212) 555-0001", "1")`, want: "+12125550001"},
		{src: `phone_e164("1-212-555-0001", "1")`, want: "+12125550001"}, // NANP trunk 1
		{src: `phone_e164("212 555 0001", " 1 ")`, want: "+12125550001"},
		{src: `phone_e164("+4915112345678", "1")`, want: "+4915112345678"}, // international wins
		{src: `phone_e164("07 12 34 56 78", "225")`, want: "+2250712345678"},
		// A trunk 0 after the country code: fixed for the default country only.
		{src: `phone_e164("+49 0151 12345678", "49")`, want: "+4915112345678"},
		{src: `phone_e164("+49 (0151) 12345678", "49")`, want: "+4915112345678"},
		{src: `phone_e164("0049 0151 12345678", "+49")`, want: "+4915112345678"},
		{src: `phone_e164("+49 0151 12345678")`, want: "+49015112345678"},
		{src: `phone_e164("+44 020 7946 0958", "49")`, want: "+4402079460958"},
		{src: `phone_e164("+39 06 1234 5678", "39")`, want: "+390612345678"},
		{src: `phone_e164("0151 12345678", data.missing ?? "49")`, want: "+4915112345678"},
		// Absent.
		{src: `phone_e164(nil)`, want: nil},
		{src: `phone_e164(nil, "49")`, want: nil},
		{src: `phone_e164(profile.phone)`, want: nil},
		{src: `phone_e164("")`, want: nil},
		{src: `phone_e164("  ", "49")`, want: nil},
		{src: `phone_e164("+4915112345678", data.missing)`, want: "+4915112345678"},
		{src: `phone_e164("+4915112345678", "")`, want: "+4915112345678"},
		// Errors.
		{src: `phone_e164("0151 12345678")`, wantErr: "phone_e164: national number and no default country code"},
		{src: `phone_e164("151 12345678")`, wantErr: "no default country code"},
		{src: `phone_e164("0151 12345678", "049")`, wantErr: "is not a calling code"},
		{src: `phone_e164("0151 12345678", "4949")`, wantErr: "is not a calling code"},
		{src: `phone_e164("0151 12345678", "DE")`, wantErr: "is not a calling code"},
		{src: `phone_e164(nil, "DE")`, wantErr: "is not a calling code"}, // a mapping bug shows on every record
		{src: `phone_e164("+49 151 CALL-NOW")`, wantErr: "unexpected character 'C'"},
		{src: `phone_e164("+1 212 555 0001 ext. 12")`, wantErr: "unexpected character 'e'"},
		{src: `phone_e164("+49 151 1234 5678 #12")`, wantErr: "unexpected character '#'"},
		{src: `phone_e164("49+151")`, wantErr: "+ is only allowed at the start"},
		{src: `phone_e164("++49151")`, wantErr: "+ is only allowed at the start"},
		{src: `phone_e164("+ - ()")`, wantErr: "no digits"},
		{src: `phone_e164("+0151 12345678")`, wantErr: "country code cannot start with 0"},
		{src: `phone_e164("000151 12345678")`, wantErr: "country code cannot start with 0"},
		{src: `phone_e164("00", "49")`, wantErr: "3 digits, too short"},
		{src: `phone_e164("+49 151")`, wantErr: "5 digits, too short"},
		{src: `phone_e164("+49 151 1234 5678 9012")`, wantErr: "17 digits, too long"},
		{src: `phone_e164("+1234567890123456789012")`, wantErr: "too many digits"},
		{src: `phone_e164("0151 1234 5678 9012 3456", "49")`, wantErr: "too many digits"},
		{src: `phone_e164("0151 1234 5678 901", "49")`, wantErr: "16 digits, too long"},
		{src: `phone_e164(4915112345678)`, wantErr: "phone_e164: want a string, got a number"},
		{src: `phone_e164(profile.phones)`, wantErr: "got an array"},
		{src: `phone_e164("+4915112345678", data.score)`, wantErr: "default country code: want a string"},
	})
}

// Errors must not carry the number: they end up in logs.
func TestPhoneErrorHasNoNumber(t *testing.T) {
	for _, in := range []string{"0151 98765", "+49 98765 x", "+98765 98765 98765 98765"} {
		_, err := phoneE164(in)
		if err == nil {
			t.Fatalf("%q: want an error", in)
		}
		if strings.Contains(err.Error(), "98765") {
			t.Errorf("%q: error %q leaks the number", in, err)
		}
	}
}

func TestFirstPhone(t *testing.T) {
	runCases(t, []tc{
		{src: `first_phone(profile.phones)`, want: "030 1234567"},
		{src: `first_phone(profile.phones, "mobile")`, want: "+49 151 12345678"},
		{src: `first_phone(profile.phones, " MOBILE ")`, want: "+49 151 12345678"},
		{src: `first_phone(profile.phones, "fax")`, want: nil},
		{src: `first_phone(profile.phones, "")`, want: "030 1234567"}, // "" means any type
		{src: `first_phone(profile.phones, data.missing)`, want: "030 1234567"},
		{src: `phone_e164(first_phone(profile.phones, "mobile"))`, want: "+4915112345678"},
		{src: `first_phone([nil, {"type": "home"}, {"number": "  "}, {"number": " 123 "}])`, want: "123"},
		{src: `first_phone({"number": "123", "type": "work"})`, want: "123"}, // a single object
		{src: `first_phone([])`, want: nil},
		{src: `first_phone(nil)`, want: nil},
		{src: `first_phone(profile.nothing, "mobile")`, want: nil},
		{src: `first_phone("0151 123")`, wantErr: "first_phone: want an array of {number, type} objects, got a string"},
		{src: `first_phone(["0151 123"])`, wantErr: "first_phone: phones[0] is a string, not an object"},
		{src: `first_phone([{"number": 151123}])`, wantErr: "first_phone: phones[0].number is a number, not a string"},
		{src: `first_phone(profile.phones, data.score)`, wantErr: "first_phone: type: want a string"},
	})
	// []map[string]any, as Go code (not JSON decoding) would build it.
	phones := []map[string]any{{"type": "home"}, {"type": "mobile", "number": "+1"}}
	if got, err := firstPhone(phones, "mobile"); got != "+1" || err != nil {
		t.Errorf("[]map: got %v, %v", got, err)
	}
	if got, err := firstPhone(phones, "work"); got != nil || err != nil {
		t.Errorf("[]map: got %v, %v", got, err)
	}
}

func TestEmailSpecials(t *testing.T) {
	for _, in := range []string{`a\b@example.com`, `"a"@example.com`, "a[1]@example.com", "a\x7f@example.com", "a\x00@example.com", "a\u2003b@example.com", "a\u0085@example.com", "a\xff@example.com"} {
		if _, err := email(in); err == nil {
			t.Errorf("%q: want an error", in)
		}
	}
}
