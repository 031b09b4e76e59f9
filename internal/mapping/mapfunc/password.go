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

// loginRadiusPassword converts the account's password with the options of
// the call's second argument (nil: the defaults).
func loginRadiusPassword(params []any) (passhash.LoginRadiusPassword, bool, error) {
	o := passhash.DefaultLoginRadiusOptions()
	if m := arg(params, 1); m != nil {
		obj, err := object("loginradius options", m)
		if err != nil {
			return passhash.LoginRadiusPassword{}, false, err
		}
		if o, err = passhash.ParseLoginRadiusOptions(obj); err != nil {
			return passhash.LoginRadiusPassword{}, false, err
		}
	}
	g, ok, err := passhash.FromAccount(arg(params, 0))
	if err != nil || !ok {
		return passhash.LoginRadiusPassword{}, false, err
	}
	p, err := passhash.LoginRadius(g, o)
	return p, err == nil, err
}

// loginRadiusPasswordHash is the profile's PasswordHash; a hash LoginRadius
// cannot verify is an error (on_error: omit and a flag import the user for
// a reset).
func loginRadiusPasswordHash(params ...any) (any, error) {
	p, ok, err := loginRadiusPassword(params)
	if !ok {
		return nil, err
	}
	return p.Hash, nil
}

// loginRadiusPasswordEncryption is the PasswordEncryption object the
// profile's request needs. It is nil, without an error, wherever
// loginradius_password_hash fails, so that only the hash field reports (and
// flags) the user; an invalid options object is an error in both.
func loginRadiusPasswordEncryption(params ...any) (any, error) {
	p, ok, _ := loginRadiusPassword(params)
	if !ok {
		if _, optErr := loginRadiusOptionsOnly(params); optErr != nil {
			return nil, optErr
		}
		return nil, nil
	}
	return p.Encryption, nil
}

// loginRadiusOptionsOnly checks the options argument alone.
func loginRadiusOptionsOnly(params []any) (passhash.LoginRadiusOptions, error) {
	m := arg(params, 1)
	if m == nil {
		return passhash.DefaultLoginRadiusOptions(), nil
	}
	obj, err := object("loginradius options", m)
	if err != nil {
		return passhash.LoginRadiusOptions{}, err
	}
	return passhash.ParseLoginRadiusOptions(obj)
}

// takesObjectView lists the helpers whose first argument, when an object,
// may be a passhash.Object instead of a map: they only hand it to
// passhash.FromAccount. The mapping engine then passes its view of the raw
// record rather than decoding the password object for every user.
var takesObjectView = map[string]bool{
	"auth0_password_hash":             true,
	"loginradius_password_hash":       true,
	"loginradius_password_encryption": true,
	"unverifiable_password":           true,
}

// TakesObjectView reports whether the helper name accepts a
// passhash.Object as its first argument wherever it accepts an object.
func TakesObjectView(name string) bool { return takesObjectView[name] }
