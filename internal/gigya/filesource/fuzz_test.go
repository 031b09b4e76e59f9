package filesource

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
)

// FuzzRead feeds arbitrary bytes as a document and as JSON lines. Reading
// must not panic, every good record must be a valid JSON object that is the
// input at its offset (readAll checks that with encoding/json), and an error
// may only be a read failure that was reported as the last record.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		`[{"UID":"a"},1,{"b":[1,{"c":"\"]}"}]}]`,
		"{\"UID\":\"a\"}\n\n{bad\r\n{\"UID\":\"b\"} x\n42\n",
		"{\n \"results\": [\n  {\"UID\":\"a\"},\n  {\"UID\":\"b\"}\n ],\n \"objectsCount\": 2\n}\n",
		`[{"results":[{"UID":"a"}]},{"results":5},{"UID":"z"}]`,
		`{"results":[{"UID":"a"}],"results":[{"x":1e5,"y":-0.5E-3,"z":"\u00e9\ud83d"}]}`,
		`[{"a":1},{"b":`,
		`[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]`,
		"\xef\xbb\xbf{\"a\":\"\t\"}",
		`[{"a":tru},{"a":nul},{"a":-},{"a":01},{"a":1.},{"a":"\x"}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Add(gzipped([]byte("{\"UID\":\"a\"}\n{\"UID\":\"b\"}\n")))
	f.Fuzz(func(t *testing.T, input []byte) {
		plain, predict := input, true
		if len(input) >= 2 && input[0] == 0x1f && input[1] == 0x8b {
			// Compare against what gzip yields; a bad stream may end anywhere.
			zr, err := gzip.NewReader(bytes.NewReader(input))
			if err == nil {
				plain, err = io.ReadAll(zr)
			}
			predict = err == nil
		}
		for _, name := range []string{"f.json", "f.jsonl"} {
			var recs []Record
			err := ReadFrom(context.Background(), name, bytes.NewReader(input), func(r Record) error {
				checkRecord(t, plain, r)
				recs = append(recs, r)
				return nil
			})
			if err != nil && (len(recs) == 0 || recs[len(recs)-1].Err.Error() != err.Error()) {
				t.Fatalf("%s: error %v was not reported as the last record", name, err)
			}
			if want, ok := expectedRecords(plain, name == "f.jsonl"); ok && predict {
				if got := simplifyData(recs); !slices.Equal(got, want) {
					t.Fatalf("%s: records\n got  %q\n want %q", name, got, want)
				}
			}
		}
	})
}

// expectedRecords predicts, with encoding/json, the records of simple valid
// inputs without saved responses: an array of values, or JSON lines that are
// each one value. Non-objects are marked with a "!" prefix.
func expectedRecords(plain []byte, lines bool) ([]string, bool) {
	if bytes.Contains(plain, []byte(`"results"`)) || bytes.HasPrefix(plain, []byte("\xef\xbb\xbf")) {
		return nil, false
	}
	mark := func(raw []byte) string {
		if raw[0] == '{' {
			return string(raw)
		}
		return "!" + string(raw)
	}
	var want []string
	if !lines {
		trimmed := bytes.TrimLeft(plain, " \t\r\n")
		var elems []json.RawMessage
		if len(trimmed) == 0 || trimmed[0] != '[' || json.Unmarshal(plain, &elems) != nil {
			return nil, false
		}
		for _, e := range elems {
			want = append(want, mark(e))
		}
		return want, true
	}
	for line := range bytes.SplitSeq(plain, []byte("\n")) {
		line = bytes.Trim(line, " \t\r")
		if len(line) == 0 {
			continue
		}
		if line[0] == '[' || !json.Valid(line) || len(line) > maxBadData {
			return nil, false
		}
		want = append(want, mark(line))
	}
	return want, true
}

func simplifyData(recs []Record) []string {
	var out []string
	for _, r := range recs {
		switch {
		case r.Err == nil:
			out = append(out, string(r.Data))
		case errors.Is(r.Err, ErrNotObject):
			out = append(out, "!"+string(r.Data))
		default:
			out = append(out, "error: "+r.Err.Error())
		}
	}
	return out
}
