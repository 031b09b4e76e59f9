package validate

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// ErrorCode is the fault code of the error [Result.Err] returns; it becomes
// the Etl-Error-Code header of the dead letter.
const ErrorCode = "schema_violation"

// ErrViolation is matched (with [errors.Is]) by every error [Result.Err]
// returns.
var ErrViolation = errors.New("schema violation")

// ErrUnknownRepair is wrapped by [ParseRepairs] for a repair name it does
// not know.
var ErrUnknownRepair = errors.New("unknown repair")

// ViolationError carries every violation of one user. [Result.Err] returns
// it marked permanent; get it back with [errors.As].
type ViolationError struct {
	Violations []Violation
}

// Error lists every violation as "path: rule: message", separated by "; ",
// after a count, e.g.
//
//	2 schema violations: app_metadata.created_at: reserved_app_metadata_key: ...; email: format_email: ...
func (e *ViolationError) Error() string {
	var b strings.Builder
	n := len(e.Violations)
	b.WriteString(strconv.Itoa(n))
	if n == 1 {
		b.WriteString(" schema violation: ")
	} else {
		b.WriteString(" schema violations: ")
	}
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Path)
		b.WriteString(": ")
		b.WriteString(v.Rule)
		b.WriteString(": ")
		b.WriteString(v.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrViolation) true.
func (e *ViolationError) Is(target error) bool { return target == ErrViolation }

// Err returns nil when r has no violations, and otherwise a permanent error
// (fault code [ErrorCode]) wrapping a [*ViolationError] with a copy of
// every violation: retrying cannot fix the data, so the transformer
// dead-letters the record. Warnings and repairs are not errors.
func (r Result) Err() error {
	if len(r.Violations) == 0 {
		return nil
	}
	return fault.Permanent(ErrorCode, &ViolationError{Violations: append([]Violation(nil), r.Violations...)})
}
