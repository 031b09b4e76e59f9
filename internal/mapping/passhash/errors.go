package passhash

import (
	"errors"
	"fmt"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// Error codes, as they appear in fault.Classify and in dead-letter headers.
const (
	// CodeUnsupported marks a password hash that the target cannot verify
	// (or whose Gigya semantics are not documented well enough to convert
	// safely). The user can still be migrated, without the hash, and has to
	// reset the password.
	CodeUnsupported = "unsupported_password_hash"
	// CodeMalformed marks a password object that is not shaped like Gigya's
	// export (wrong JSON types, non-integral rounds).
	CodeMalformed = "invalid_password_hash"
)

// Targets named in [UnsupportedError.Target].
const (
	TargetAuth0       = "auth0"
	TargetLoginRadius = "loginradius"
)

var (
	// ErrUnsupported matches (with errors.Is) every error the converters
	// return for a hash they refuse; errors.As with *[UnsupportedError] gives
	// the details.
	ErrUnsupported = errors.New("unsupported password hash")
	// ErrMalformed matches the errors [FromAccount] returns for a password
	// object that does not have the shape of Gigya's export.
	ErrMalformed = errors.New("malformed password object")
)

// UnsupportedError says why a Gigya password hash cannot be carried over to
// a target. The converters return it wrapped by fault.Permanent with code
// [CodeUnsupported], so both errors.As and fault.Classify work on it.
type UnsupportedError struct {
	// Algorithm is the Gigya hashSettings.algorithm (lower-cased), "" when
	// the export had none.
	Algorithm string
	// Target is [TargetAuth0] or [TargetLoginRadius].
	Target string
	// Reason is a human-readable explanation, safe to log: it never contains
	// hash, salt or password material.
	Reason string
}

func (e *UnsupportedError) Error() string {
	alg := e.Algorithm
	if alg == "" {
		alg = "(none)"
	}
	return fmt.Sprintf("password hash %q cannot be imported into %s: %s", alg, e.Target, e.Reason)
}

// Code returns [CodeUnsupported].
func (e *UnsupportedError) Code() string { return CodeUnsupported }

// Is makes errors.Is(err, ErrUnsupported) true for every UnsupportedError.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// unsupported builds the classified error the converters return.
func unsupported(alg, target, format string, args ...any) error {
	return fault.Permanent(CodeUnsupported, &UnsupportedError{
		Algorithm: alg,
		Target:    target,
		Reason:    fmt.Sprintf(format, args...),
	})
}

// malformed builds the classified error FromAccount returns.
func malformed(format string, args ...any) error {
	return fault.Permanent(CodeMalformed, fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...)))
}
