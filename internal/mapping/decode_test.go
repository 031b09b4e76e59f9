package mapping

import (
	"bytes"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	stdjson "encoding/json"
)

// errOutOfRange marks a reference holding a number beyond float64, which the
// engine refuses (it could not map or encode it again) where the library,
// reading json.Numbers, accepts it.
var errOutOfRange = errors.New("number out of float64 range")

// engineNumbers turns json.Numbers into what the engine's decoder yields;
// a number beyond float64 panics with errOutOfRange.
func engineNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			x[k] = engineNumbers(c)
		}
	case []any:
		for i, c := range x {
			x[i] = engineNumbers(c)
		}
	case stdjson.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
				return n
			}
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if errors.Is(err, strconv.ErrRange) {
			panic(errOutOfRange)
		}
		return f
	}
	return v
}

// engineValues is engineNumbers, reporting errOutOfRange as an error.
func engineValues(v any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			if r != errOutOfRange {
				panic(r)
			}
			err = errOutOfRange
		}
	}()
	return engineNumbers(v), nil
}

// anyNumberOutOfRange reports whether data holds a number beyond float64
// anywhere, the overwritten value of a repeated key included: the engine's
// decoder refuses it there too, where the library's last-wins map no longer
// shows it.
func anyNumberOutOfRange(data []byte) bool {
	dec := stdjson.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if n, ok := tok.(stdjson.Number); ok {
			if _, err := strconv.ParseFloat(string(n), 64); errors.Is(err, strconv.ErrRange) {
				return true
			}
		}
	}
}

func TestDecodeKeys(t *testing.T) {
	data := []byte(` {"UID":"u\u00e9","n":1706781600000,"f":1.5,"e":-2e3,"big":12345678901234567890,"b":true,"z":null,
		"skip":{"x":[1,"]}\"",{"y":"}"}]},"arr":[1,{"a":[]}],"esc\"key":"v","UID":"last"} `)
	got, err := decodeKeys(data, map[string]struct{}{"UID": {}, "n": {}, "f": {}, "e": {}, "big": {}, "b": {}, "z": {}, "arr": {}, `esc"key`: {}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"UID": "last", // a repeated key: the last wins
		"n":   int64(1706781600000), "f": 1.5, "e": -2000.0, "big": 12345678901234567890.0,
		"b": true, "z": nil, "arr": []any{int64(1), map[string]any{"a": []any{}}}, `esc"key`: "v",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	for _, bad := range []string{``, `null`, `[]`, `{"a":1`, `{"a":1}x`, `{"a":01}`, `{"a":"\x01"}`, `{"a":tru}`, `{a:1}`, `{"a":1,}`, `{"a":"\q"}`} {
		if _, err := decodeKeys([]byte(bad), map[string]struct{}{"a": {}}); !errors.Is(err, ErrDecode) {
			t.Errorf("decodeKeys(%q) = %v, want ErrDecode", bad, err)
		}
		if _, err := decodeKeys([]byte(bad), nil); !errors.Is(err, ErrDecode) {
			t.Errorf("decodeAll(%q) = %v, want ErrDecode", bad, err)
		}
	}
}

// FuzzDecode holds the hand-written decoder to the JSON library: for every
// valid UTF-8 input, the full decode is valid exactly when the library says
// so and then yields the same values as encoding/json with UseNumber read
// the engine's way (integers that fit as int64, other numbers as float64);
// a selective decode yields the same values for the keys it keeps.
//
// The reference is the standard library, not segmentio with UseInt64: the
// fuzzer found that the latter wraps an integer beyond int64
// (21000000000000000000 became 2553255926290448384), where the engine's
// decoder correctly keeps a float64.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,2.5,"x\n"]},"c":null}`, `{"k":"\ud83d\ude00"}`, `{"n":-0.0e+1}`, `{"a":[{}]}`, ` { } `,
		`{"0":21000000000000000000}`, `{"n":-9223372036854775808,"m":9223372036854775807}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // the library replaces invalid UTF-8; the decoder keeps bytes
		}
		var ref map[string]any
		dec := stdjson.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		refErr := dec.Decode(&ref)
		if refErr == nil && dec.More() {
			refErr = errors.New("trailing data")
		}
		if refErr == nil {
			var v any
			v, refErr = engineValues(ref)
			ref, _ = v.(map[string]any)
		}
		if refErr == nil && anyNumberOutOfRange(data) {
			refErr = errOutOfRange
		}
		valid := stdjson.Valid(data) && refErr == nil && ref != nil
		got, err := decodeKeys(data, nil)
		if valid != (err == nil) {
			t.Fatalf("%q: library valid=%v, decoder err=%v", data, valid, err)
		}
		if !valid {
			return
		}
		if !reflect.DeepEqual(got, ref) {
			t.Fatalf("%q:\n got %#v\nwant %#v", data, got, ref)
		}
		want := map[string]struct{}{}
		for k := range ref {
			if len(k)%2 == 0 {
				want[k] = struct{}{}
			}
		}
		part, err := decodeKeys(data, want)
		if err != nil {
			t.Fatalf("selective decode failed on valid input %q: %v", data, err)
		}
		for k := range want {
			if !reflect.DeepEqual(part[k], ref[k]) {
				t.Fatalf("%q key %q: got %#v want %#v", data, k, part[k], ref[k])
			}
		}
	})
}
