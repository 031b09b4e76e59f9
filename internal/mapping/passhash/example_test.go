package passhash_test

import (
	"errors"
	"fmt"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
)

// The Gigya export from Auth0's community guide, converted for Auth0.
func ExampleAuth0() {
	var account map[string]any
	_ = json.Unmarshal([]byte(`{"UID":"u1","password":{"created":"2024-01-28T17:20:31.188Z",
		"hashSettings":{"salt":"YWJjc29tZXRoaW5n==","rounds":10000,"algorithm":"pbkdf2_sha512"},
		"hash":"89v2METlSkX2LKWSQGHCdE4iUkE="}}`), &account)

	g, ok, err := passhash.FromAccount(account["password"])
	if err != nil || !ok {
		fmt.Println("no usable password:", err)
		return
	}
	custom, err := passhash.Auth0(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	js, _ := json.Marshal(custom)
	fmt.Println(string(js))
	// Output:
	// {"algorithm":"pbkdf2","hash":{"encoding":"utf8","value":"$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE"}}
}

// A hash the target cannot verify is refused with a reason; the user is
// migrated without it and resets the password.
func ExampleAuth0_unsupported() {
	_, err := passhash.Auth0(passhash.Gigya{Hash: "$1$abcdefgh$0123456789012345678901", Algorithm: "md5_crypt"})
	var ue *passhash.UnsupportedError
	if errors.As(err, &ue) {
		fmt.Println(ue.Code(), ue.Algorithm)
	}
	// Output:
	// unsupported_password_hash md5_crypt
}
