package mapfunc

import (
	"errors"
	"fmt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
)

// unverifiablePassword is the filter helper of a hybrid migration
// (docs/login-migration.md): true for an account whose password hash the
// target cannot verify, whom the bulk load leaves to login-time migration,
// which moves them with the password they type. It asks the target's own
// converter, so that the filter and the password field agree on every
// account: what the converter refuses (unsupported_password_hash, or an
// object not shaped like Gigya's, invalid_password_hash) is unverifiable.
func unverifiablePassword(params ...any) (any, error) {
	target, _ := params[1].(string)
	var convert func(passhash.Gigya) (map[string]any, error)
	switch target {
	case passhash.TargetAuth0:
		convert = passhash.Auth0
	case passhash.TargetLoginRadius:
		convert = passhash.LoginRadius
	default:
		return nil, fmt.Errorf("unverifiable_password: target %q: want %q or %q", target, passhash.TargetAuth0, passhash.TargetLoginRadius)
	}
	g, ok, err := passhash.FromAccount(params[0])
	switch {
	case err != nil:
		return errors.Is(err, passhash.ErrMalformed), unlessMalformed(err)
	case !ok:
		return false, nil // no password: nothing to keep
	}
	if _, err := convert(g); err != nil {
		if errors.Is(err, passhash.ErrUnsupported) || errors.Is(err, passhash.ErrMalformed) {
			return true, nil
		}
		return nil, err
	}
	return false, nil
}

// unlessMalformed is nil for a malformed password object (the helper's
// answer is then true) and err otherwise.
func unlessMalformed(err error) error {
	if errors.Is(err, passhash.ErrMalformed) {
		return nil
	}
	return err
}
