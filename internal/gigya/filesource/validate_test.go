package filesource

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		give   string
		lines  bool
		final  bool
		wantN  int
		wantR  vresult
		doFind bool
	}{
		{name: "object", give: `{"a":[1,2.5e-3,true,false,null,"x"]} rest`, wantN: 36, wantR: vOK},
		{name: "escapes", give: `"a\"b\\\/\b\f\n\r\t\u00e9"`, wantN: 26, wantR: vOK},
		{name: "long string with quote after 8-byte blocks", give: `"0123456789abcdef\"0123456789"`, wantN: 30, wantR: vOK},
		{name: "non-ASCII", give: `"Müller 😀"`, wantN: 14, wantR: vOK},
		{name: "number needs more unless final", give: `-12.5e+3`, wantN: 8, wantR: vMore},
		{name: "number final", give: `-12.5e+3`, final: true, wantN: 8, wantR: vOK},
		{name: "number ended by delimiter", give: `12,`, wantN: 2, wantR: vOK},
		{name: "leading zero", give: `[01]`, wantN: 2, wantR: vSyntax},
		{name: "bare minus", give: `[-]`, wantN: 2, wantR: vSyntax},
		{name: "fraction without digits", give: `[1.]`, wantN: 3, wantR: vSyntax},
		{name: "bad escape", give: `"a\x"`, wantN: 3, wantR: vSyntax},
		{name: "bad unicode escape", give: `"\u12g4"`, wantN: 5, wantR: vSyntax},
		{name: "control character", give: "\"a\x01\"", wantN: 2, wantR: vSyntax},
		{name: "highest control character", give: "\"abcdefghij\x1f\"", wantN: 11, wantR: vSyntax},
		{name: "DEL and high bytes are allowed", give: "\"\x7f\x80\xff\x20\"", wantN: 6, wantR: vOK},
		{name: "prefix of a literal", give: `[tr`, wantN: 3, wantR: vMore},
		{name: "wrong literal", give: `[trux]`, wantN: 4, wantR: vSyntax},
		{name: "missing colon", give: `{"a" 1}`, wantN: 5, wantR: vSyntax},
		{name: "trailing comma in object", give: `{"a":1,}`, wantN: 7, wantR: vSyntax},
		{name: "mismatched bracket", give: `{"a":[1}`, wantN: 7, wantR: vSyntax},
		{name: "newline is blank in a document", give: "{\"a\":\n1}", wantN: 8, wantR: vOK},
		{name: "newline ends a line", give: "{\"a\":\n1}", lines: true, wantN: 5, wantR: vSyntax},
		{name: "newline in a string", give: "\"a\nb\"", wantN: 2, wantR: vSyntax},
		{name: "cut inside a string", give: `{"a":"bc`, wantN: 8, wantR: vMore},
		{name: "cut after escape", give: `"a\`, wantN: 2, wantR: vMore},
		{name: "results found", give: `{"x":1, "results" : [`, doFind: true, wantN: 19, wantR: vResults},
		{name: "nested results ignored", give: `{"x":{"results":1}}`, doFind: true, wantN: 19, wantR: vOK},
		{name: "results not searched", give: `{"results":[]}`, wantN: 14, wantR: vOK},
		{name: "key that starts like results", give: `{"resultsX":[]}`, doFind: true, wantN: 15, wantR: vOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, r, _ := validate([]byte(tt.give), tt.lines, tt.final, tt.doFind, nil, nil)
			if n != tt.wantN || r != tt.wantR {
				t.Errorf("validate(%q) = %d, %d; want %d, %d", tt.give, n, r, tt.wantN, tt.wantR)
			}
		})
	}
}

// FuzzValidate compares validate with encoding/json.Valid, and checks the
// property streaming relies on: a prefix of a valid value is never a syntax
// error and never a different value.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		`{"a":[1,2.5e-3,true,false,null,"x\"\\\u00e9"]}`, `-0.0E+1`, `"0123456789abcdef\"01234567"`,
		`[[],{},[{}]]`, `{"a" 1}`, `"\u12g4"`, "\"\x7f\xff\"", ` 1 `, `01`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		trimmed := bytes.TrimLeft(b, " \t\r\n")
		n, r, _ := validate(trimmed, false, true, false, nil, nil)
		ours := r == vOK && skipWS(trimmed, n, false) == len(trimmed)
		if ours != json.Valid(b) {
			t.Fatalf("validate(%q) = %d, %d; encoding/json says valid=%v", b, n, r, !ours)
		}
		if !ours {
			return
		}
		for k := range len(trimmed) {
			pn, pr, _ := validate(trimmed[:k], false, false, false, nil, nil)
			if pr != vMore && (pr != vOK || pn != n) {
				t.Fatalf("prefix %q of valid %q: %d, %d", trimmed[:k], trimmed, pn, pr)
			}
		}
	})
}
