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
// converter (with the options the mapping gives loginradius_password_hash,
// for LoginRadius), so that the filter and the password field agree on
// every account: what the converter refuses (unsupported_password_hash, or
// an object not shaped like Gigya's, invalid_password_hash) is
// unverifiable.
func unverifiablePassword(params ...any) (any, error) {
	target, _ := arg(params, 1).(string)
	var convert func(passhash.Gigya) error
	switch target {
	case passhash.TargetAuth0:
		if arg(params, 2) != nil {
			return nil, errors.New("unverifiable_password: options are for the loginradius target only")
		}
		convert = func(g passhash.Gigya) error { _, err := passhash.Auth0(g); return err }
	case passhash.TargetLoginRadius:
		o, err := loginRadiusOptionsOnly([]any{nil, arg(params, 2)})
		if err != nil {
			return nil, err
		}
		convert = func(g passhash.Gigya) error { _, err := passhash.LoginRadius(g, o); return err }
	default:
		return nil, fmt.Errorf("unverifiable_password: target %q: want %q or %q", target, passhash.TargetAuth0, passhash.TargetLoginRadius)
	}
	g, ok, err := passhash.FromAccount(arg(params, 0))
	switch {
	case errors.Is(err, passhash.ErrMalformed):
		return true, nil // no target verifies what is not a Gigya password object
	case err != nil:
		return nil, err
	case !ok:
		return false, nil // no password: nothing to keep
	}
	if err := convert(g); err != nil {
		if errors.Is(err, passhash.ErrUnsupported) || errors.Is(err, passhash.ErrMalformed) {
			return true, nil
		}
		return nil, err
	}
	return false, nil
}
