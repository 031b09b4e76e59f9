package transform

import (
	"errors"
	"fmt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

// checker validates a mapped user against the target's import rules; it
// returns an error (classified permanent) listing the violations, and the
// warnings that do not stop the user. Validate may repair the user in place
// when the mapping allows it.
type checker interface {
	Check(user map[string]any) (warnings []string, err error)
}

// recordMapper is the per-record work shared by the transformer's workers
// and `transformer check`: map, validate, encode. Not safe for concurrent
// use (it owns an Evaluator).
type recordMapper struct {
	ev    *mapping.Evaluator
	check checker // nil: no validation
}

// mappedRecord is what one Gigya account became.
type mappedRecord struct {
	Outputs  [][]byte       // encoded users; empty when skipped
	Skip     string         // filter name or mapping.SkipExplodeEmpty
	Notes    []mapping.Note // fields dropped by on_error: omit
	Warnings []string       // validation warnings
}

// mapRecord maps one account. Its error is permanent and coded (fault):
// invalid_json, required_missing, mapping_failed, schema_violation, or a
// helper's own code such as unsupported_password_hash.
func (rm *recordMapper) mapRecord(data []byte) (mappedRecord, error) {
	r, err := rm.ev.MapJSON(data)
	if err != nil {
		return mappedRecord{}, fault.Permanent(mappingErrorCode(err), err)
	}
	rec := mappedRecord{Skip: r.Skip, Notes: r.Notes}
	for i, out := range r.Outputs {
		if rm.check != nil {
			warnings, err := rm.check.Check(out)
			if err != nil {
				if len(r.Outputs) > 1 {
					err = fmt.Errorf("output %d of %d: %w", i+1, len(r.Outputs), err)
				}
				return mappedRecord{}, err
			}
			rec.Warnings = append(rec.Warnings, warnings...)
		}
		b, err := json.Marshal(out)
		if err != nil {
			return mappedRecord{}, fault.Permanent("encode_failed", err)
		}
		rec.Outputs = append(rec.Outputs, b)
	}
	return rec, nil
}

// mappingErrorCode names a mapping failure for the dead-letter header: a
// code carried by the error (a helper's, such as unsupported_password_hash)
// wins over the generic ones.
func mappingErrorCode(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	switch {
	case errors.Is(err, mapping.ErrDecode):
		return "invalid_json"
	case errors.Is(err, mapping.ErrRequired):
		return "required_missing"
	default:
		return "mapping_failed"
	}
}
