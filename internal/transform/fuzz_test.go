package transform

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

// FuzzMapRecord feeds arbitrary bytes through what a transformer does to a
// record with the Auth0 mapping: it must never panic, every input must end
// as users (valid JSON objects), a named skip, or a coded rejection, and
// the outcome must be the reference's (referenceRecord).
func FuzzMapRecord(f *testing.F) {
	sample, err := os.Open(filepath.Join("..", "..", "configs", "sample", "accounts.jsonl.gz"))
	if err != nil {
		f.Fatal(err)
	}
	defer sample.Close()
	zr, err := gzip.NewReader(sample)
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for i := 0; i < 40 && sc.Scan(); i++ {
		f.Add(bytes.Clone(sc.Bytes()))
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"UID":1}`, `{"UID":"u","profile":"x"}`, `{"UID":"u","identities":{"a":1}}`,
		`{"UID":"u","profile":{"email":["a@b.c"]}}`, `{"UID":"u","password":{"hash":5,"hashSettings":"x"}}`} {
		f.Add([]byte(s))
	}
	m, err := loadMapping("")
	if err != nil {
		f.Fatal(err)
	}
	validator, err := validatorFor(m)
	if err != nil {
		f.Fatal(err)
	}
	ref := m.NewEvaluator()
	f.Fuzz(func(t *testing.T, data []byte) {
		rm := &recordMapper{ev: m.NewEvaluator().WithValidator(validator)}
		// Whatever the input, the outcome is the reference's (the map
		// engine's, as the transformer had it before the record engine).
		if want, got := referenceRecord(ref, validator, data), recordOutcome(rm, data); want != got {
			t.Fatalf("differs from the reference for %q\nwant %s\n got %s", data, want, got)
		}
		rec, err := rm.mapRecord(data)
		switch {
		case err != nil:
			kind, code := fault.Classify(err)
			if kind != fault.KindPermanent || code == "" || code == "internal" || err.Error() == "" {
				t.Fatalf("rejection without a reason code: %v %q %v", kind, code, err)
			}
		case rec.Skip != "":
		case len(rec.Outputs) == 0:
			t.Fatalf("neither users, skip nor rejection for %q", data)
		default:
			for _, u := range rec.Outputs {
				var obj map[string]any
				if err := json.Unmarshal(u, &obj); err != nil || obj == nil {
					t.Fatalf("output is not a JSON object: %q", u)
				}
			}
		}
	})
}
