package validate

import (
	"encoding/json"
	"math"
	"net/mail"
	"testing"
)

func TestEmailProblem(t *testing.T) {
	valid := []string{
		"jane.doe@example.com",
		"a@b.co",
		"first.last+tag@mail.sub.example.co.uk",
		"o'brien@example.ie",
		"x_y-z@ex-ample.com",
		"jö@exämple.de", // internationalised: accepted (see emailProblem)
		"UPPER@EXAMPLE.COM",
	}
	invalid := []string{
		"",
		"jane",
		"@example.com",
		"jane@",
		"jane@localhost",
		"jane@[192.0.2.1]",
		"jane@ex_ample.com",
		"jane@-example.com",
		"jane@example-.com",
		"jane@example..com",
		"jane@.example.com",
		"jane@example.com.",
		"jane..doe@example.com",
		".jane@example.com",
		"jane.@example.com",
		"jane doe@example.com",
		`"jane doe"@example.com`,
		"Jane <jane@example.com>",
		"<jane@example.com>",
		" jane@example.com",
		"jane@example.com ",
		"jane@example.com (Jane)",
		"jane@example.com,joe@example.com",
		"a@b@example.com",
		"jane@" + string(make([]byte, 64)) + ".com",
		string(make([]byte, 65)) + "@example.com",
	}
	for _, s := range valid {
		if p := emailProblem(s); p != "" {
			t.Errorf("emailProblem(%q) = %q, want valid", s, p)
		}
	}
	for _, s := range invalid {
		if emailProblem(s) == "" {
			t.Errorf("emailProblem(%q) = valid, want a problem", s)
		}
	}
	long := "a@" + repeat("abcdefghi.", 26) + "com" // 265 bytes
	if emailProblem(long) == "" {
		t.Errorf("an address over 254 bytes is valid")
	}
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

func TestE164Problem(t *testing.T) {
	for _, s := range []string{"+12125550001", "+1", "+491701234567", "+123456789012345"} {
		if p := e164Problem(s); p != "" {
			t.Errorf("e164Problem(%q) = %q", s, p)
		}
	}
	for _, s := range []string{"", "+", "12125550001", "0049301234567", "+0049301234567", "+1 212 555 0001", "+1-212-555-0001", "+1234567890123456", "++1212", "+1212x"} {
		if e164Problem(s) == "" {
			t.Errorf("e164Problem(%q) = valid", s)
		}
	}
}

func TestBase64AndHex(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		ok   bool
		phcN int
		phc  bool
	}{
		{"", 0, true, 0, false},
		{"QQ", 1, true, 1, true},
		{"QQ==", 1, true, 0, false},
		{"QQ=", 0, false, 0, false},
		{"QUI", 2, true, 2, true},
		{"QUJD", 3, true, 3, true},
		{"Q", 0, false, 0, false},
		{"QUJDR", 0, false, 0, false},
		{"_-8", 2, true, 0, false}, // url-safe: base64 yes, PHC no
		{"a b", 0, false, 0, false},
		{"QQ===", 0, false, 0, false},
	} {
		n, ok := b64Len(tt.s)
		if n != tt.n || ok != tt.ok {
			t.Errorf("b64Len(%q) = %d, %v; want %d, %v", tt.s, n, ok, tt.n, tt.ok)
		}
		pn, msg := phcB64Problem(tt.s)
		if pn != tt.phcN || (msg == "") != tt.phc {
			t.Errorf("phcB64Problem(%q) = %d, %q; want %d, ok=%v", tt.s, pn, msg, tt.phcN, tt.phc)
		}
	}
	if n, ok := hexLen("00aAfF"); n != 3 || !ok {
		t.Errorf("hexLen = %d, %v", n, ok)
	}
	for _, s := range []string{"0", "0g", "0x00"} {
		if _, ok := hexLen(s); ok {
			t.Errorf("hexLen(%q) ok", s)
		}
	}
}

func TestPathString(t *testing.T) {
	root := pathNode{key: "mfa_factors"}
	i := elem(&root, 1)
	ph := member(&i, "phone")
	v := member(&ph, "value")
	if got := v.String(); got != "mfa_factors[1].phone.value" {
		t.Errorf("got %q", got)
	}
	um := pathNode{key: "user_metadata"}
	for k, want := range map[string]string{
		"a.b":     `user_metadata["a.b"]`,
		"$set":    `user_metadata.$set`,
		"":        `user_metadata[""]`,
		"a b":     `user_metadata["a b"]`,
		"x[0]":    `user_metadata["x[0]"]`,
		"k\xfe":   `user_metadata["k\xfe"]`,
		"straße":  `user_metadata.straße`,
		"gigya_1": `user_metadata.gigya_1`,
	} {
		n := member(&um, k)
		if got := n.String(); got != want {
			t.Errorf("key %q: got %s, want %s", k, got, want)
		}
	}
	var nilPath *pathNode
	if nilPath.String() != "" {
		t.Error("nil path is not empty")
	}
	// Deeper than the stack buffer.
	n := &pathNode{key: "a"}
	for j := 0; j < 40; j++ {
		c := elem(n, j)
		n = &c
	}
	if got := n.String(); len(got) < 40*3 {
		t.Errorf("deep path truncated: %q", got)
	}
}

func TestAsInt(t *testing.T) {
	type myInt int32
	for _, tt := range []struct {
		v    any
		want int64
		ok   bool
	}{
		{int(3), 3, true}, {int64(3), 3, true}, {float64(3), 3, true}, {myInt(3), 3, true},
		{uint8(3), 3, true}, {json.Number("32"), 32, true},
		{3.5, 0, false}, {math.Inf(1), 0, false}, {math.NaN(), 0, false}, {"3", 0, false},
		{json.Number("3.0"), 0, false}, {uint64(math.MaxUint64), 0, false}, {nil, 0, false},
	} {
		got, ok := asInt(tt.v)
		if got != tt.want || ok != tt.ok {
			t.Errorf("asInt(%#v) = %d, %v; want %d, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTypeName(t *testing.T) {
	var nilMap map[string]any
	var nilPtr *int
	for _, tt := range []struct {
		v    any
		want string
	}{
		{nil, "null"}, {nilMap, "null"}, {nilPtr, "null"}, {"s", "string"}, {true, "boolean"},
		{1, "number"}, {json.Number("1"), "number"}, {map[string]int{}, "object"},
		{[]string{}, "array"}, {[]byte("x"), "[]uint8"}, {make(chan int), "chan int"},
	} {
		if got := typeName(tt.v); got != tt.want {
			t.Errorf("typeName(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestScanString(t *testing.T) {
	for _, tt := range []struct {
		s     string
		n     int
		valid bool
	}{
		{"", 2, true}, {"abc", 5, true}, {`a"b`, 6, true}, {"a\nb", 6, true}, {"\x01", 8, true},
		{"ä", 4, true}, {"\xff", 8, false}, {"a\xc3", 9, false},
	} {
		n, valid := scanString(tt.s)
		if n != tt.n || valid != tt.valid {
			t.Errorf("scanString(%q) = %d, %v; want %d, %v", tt.s, n, valid, tt.n, tt.valid)
		}
	}
}

// TestDotAtomAgreesWithNetMail checks that the fast path of emailProblem
// accepts only what net/mail accepts unchanged.
func TestDotAtomAgreesWithNetMail(t *testing.T) {
	for _, local := range []string{
		"a", "jane.doe", "a.b.c", "x+y", "o'brien", "!#$%&'*+-/=?^_`{|}~", "a..b", ".a", "a.", "a b",
		`"a"`, "a(b)", "a,b", "a;b", "a<b", "a>b", "a[b", "a]b", "a\\b", "a@b", "jö", "a\tb",
	} {
		s := local + "@example.com"
		a, err := mail.ParseAddress(s)
		netOK := err == nil && a.Name == "" && a.Address == s
		if dotAtom(local) && !netOK {
			t.Errorf("dotAtom(%q) = true but net/mail rejects %q (%v)", local, s, err)
		}
		if got := emailProblem(s) == ""; got != netOK {
			t.Errorf("emailProblem(%q) valid = %v, net/mail = %v", s, got, netOK)
		}
	}
}
