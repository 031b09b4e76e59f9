package mapfunc

import "github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"

// The password helpers keep passhash's errors as they are: they carry the
// dead-letter code (unsupported_password_hash, invalid_password_hash) that
// the transformer puts on the record.

func auth0PasswordHash(params ...any) (any, error) {
	g, ok, err := passhash.FromAccount(params[0])
	if err != nil || !ok {
		return nil, err
	}
	return passhash.Auth0(g)
}

func loginRadiusPassword(params ...any) (any, error) {
	g, ok, err := passhash.FromAccount(params[0])
	if err != nil || !ok {
		return nil, err
	}
	return passhash.LoginRadius(g)
}
