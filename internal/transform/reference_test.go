package transform

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

// referenceRecord is what the transformer made of a record before the
// record engine (7acc1d6): the map engine (MapJSON), the validator on the
// map, json.Marshal of each output. The differential tests compare the
// transformer's mapRecord with it, outcome for outcome.
func referenceRecord(ev *mapping.Evaluator, v validate.Validator, data []byte) string {
	r, err := ev.MapJSON(data)
	if err != nil {
		return errorOutcome(fault.Permanent(referenceCode(err), err))
	}
	out := fmt.Sprintf("skip=%q notes=%s", r.Skip, notesOf(r.Notes))
	for i, u := range r.Outputs {
		if v != nil {
			res := v.Validate(u)
			if err := res.Err(); err != nil {
				if len(r.Outputs) > 1 {
					err = fmt.Errorf("output %d of %d: %w", i+1, len(r.Outputs), err)
				}
				return errorOutcome(err)
			}
			for _, w := range res.Warnings {
				out += fmt.Sprintf("\nwarning %s: %s: %s", w.Path, w.Rule, w.Message)
			}
			for _, w := range res.Repaired {
				out += fmt.Sprintf("\nwarning repaired %s: %s: %s", w.Path, w.Rule, w.Message)
			}
		}
		b, err := json.Marshal(u)
		if err != nil {
			return errorOutcome(fault.Permanent("encode_failed", err))
		}
		out += "\nuser " + string(b)
	}
	return out
}

// referenceCode is mappingErrorCode at 7acc1d6.
func referenceCode(err error) string {
	var fe *fault.Error
	switch {
	case errors.As(err, &fe):
		return fe.Code
	case errors.Is(err, mapping.ErrDecode):
		return "invalid_json"
	case errors.Is(err, mapping.ErrRequired):
		return "required_missing"
	}
	return "mapping_failed"
}

func errorOutcome(err error) string {
	kind, code := fault.Classify(err)
	return fmt.Sprintf("error %v %s: %v", kind, code, err)
}

func notesOf(notes []mapping.Note) string {
	s := ""
	for _, n := range notes {
		s += fmt.Sprintf("[%s %s %v]", n.Field, n.Flag, n.Err)
	}
	return s
}

// recordOutcome renders the transformer's mapRecord like referenceRecord.
func recordOutcome(rm *recordMapper, data []byte) string {
	rec, err := rm.mapRecord(data)
	if err != nil {
		return errorOutcome(err)
	}
	out := fmt.Sprintf("skip=%q notes=%s", rec.Skip, notesOf(rec.Notes))
	for _, w := range rec.Warnings {
		out += "\nwarning " + w
	}
	for _, u := range rec.Outputs {
		out += "\nuser " + string(u)
	}
	return out
}

// TestMapRecordMatchesReferenceOnGeneratedAccounts runs generated accounts
// (every kind the sample generator makes: site and social users, lite
// accounts, every password algorithm) through both, with both shipped
// mappings.
func TestMapRecordMatchesReferenceOnGeneratedAccounts(t *testing.T) {
	for _, path := range []string{"../../configs/auth0.yaml", "../../configs/loginradius.yaml"} {
		m, err := loadMapping(path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := validatorFor(m)
		if err != nil {
			t.Fatal(err)
		}
		ref := m.NewEvaluator()
		rm := &recordMapper{ev: m.NewEvaluator().WithValidator(v)}
		g := sample.New(23, sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
		const n = 4000
		for i := range n {
			a := g.Next()
			if want, got := referenceRecord(ref, v, a.JSON), recordOutcome(rm, a.JSON); want != got {
				t.Fatalf("%s, account %d (%s): differs from the reference\n%s\nwant %s\n got %s", path, i, a.Kind, a.JSON, want, got)
			}
		}
		if fb := rm.ev.Fallbacks(); fb != 0 {
			t.Errorf("%s: %d of %d generated accounts went to the map engine, want 0", path, fb, n)
		}
	}
}
