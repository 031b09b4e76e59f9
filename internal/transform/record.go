package transform

import (
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
)

// recordMapper is the per-record work shared by the transformer's workers
// and `transformer check`: map, validate, encode, by the mapping engine's
// record engine (mapping.Evaluator.MapRecord). Not safe for concurrent use
// (it owns an Evaluator).
type recordMapper struct {
	ev *mapping.Evaluator // with the target's validator, if any
}

// mappedRecord is what one Gigya account became.
type mappedRecord struct {
	Outputs  [][]byte       // encoded users, valid until the next record; empty when skipped
	Skip     string         // filter name or mapping.SkipExplodeEmpty
	Notes    []mapping.Note // fields dropped by on_error: omit
	Warnings []string       // validation warnings and repairs
}

// mapRecord maps one account. Its error is permanent and coded (fault):
// invalid_json, required_missing, mapping_failed, schema_violation,
// encode_failed, or a helper's own code such as unsupported_password_hash.
func (rm *recordMapper) mapRecord(data []byte) (mappedRecord, error) {
	r, err := rm.ev.MapRecord(data)
	if err != nil {
		return mappedRecord{}, err
	}
	return mappedRecord{Outputs: r.Outputs, Skip: r.Skip, Notes: r.Notes, Warnings: r.Warnings}, nil
}

// mappingErrorCode names a mapping failure for the dead-letter header: a
// code carried by the error (a helper's, such as unsupported_password_hash)
// wins over the generic ones.
func mappingErrorCode(err error) string { return mapping.ErrorCode(err) }
