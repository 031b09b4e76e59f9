package passhash_test

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/auth0verify"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/lrverify"
)

// TestSampleAccounts runs the converter over generated Gigya accounts, which
// carry their plaintext passwords: every verifiable password must log in
// through Auth0's rules after conversion (and a wrong one must not), and
// every unverifiable hash must be refused with the code.
func TestSampleAccounts(t *testing.T) {
	t.Parallel()
	const n = 2000
	gen := sample.New(20240128, sample.Options{PBKDF2Rounds: 50, BcryptCost: 4})
	type count struct{ verified, refused, lrConverted, lrVerified, lrRefused int }
	counts := map[string]*count{}
	noPassword := 0
	for i := 0; i < n; i++ {
		acc := gen.Next()
		account := decodeAccount(t, acc.JSON, i%2 == 1)
		g, ok, err := passhash.FromAccount(account["password"])
		if err != nil {
			t.Fatalf("%s: FromAccount: %v", acc.UID, err)
		}
		if ok != (acc.Algorithm != "") {
			t.Fatalf("%s: ok=%v for algorithm %q", acc.UID, ok, acc.Algorithm)
		}
		if !ok {
			noPassword++
			continue
		}
		if g.Algorithm != acc.Algorithm {
			t.Fatalf("%s: algorithm %q, want %q", acc.UID, g.Algorithm, acc.Algorithm)
		}
		key := acc.Algorithm
		if g.Salt != "" && g.Format != "" {
			key += " " + g.Format
		}
		c := counts[key]
		if c == nil {
			c = &count{}
			counts[key] = c
		}

		obj, err := passhash.Auth0(g)
		switch {
		case acc.Verifiable && acc.Password != "":
			if err != nil {
				t.Fatalf("%s: %s: Auth0: %v", acc.UID, key, err)
			}
			js, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := auth0verify.Verify(js, acc.Password); err != nil || !ok {
				t.Fatalf("%s: %s: password does not verify: ok=%v err=%v\n%s", acc.UID, key, ok, err, js)
			}
			if ok, err := auth0verify.Verify(js, acc.Password+"1"); err != nil || ok {
				t.Fatalf("%s: %s: wrong password verifies: ok=%v err=%v", acc.UID, key, ok, err)
			}
			c.verified++
		default:
			checkUnsupported(t, err, acc.Algorithm, passhash.TargetAuth0)
			c.refused++
		}

		lr, err := passhash.LoginRadius(g, passhash.DefaultLoginRadiusOptions())
		if err != nil {
			checkUnsupported(t, err, acc.Algorithm, passhash.TargetLoginRadius)
			c.lrRefused++
			continue
		}
		c.lrConverted++
		if !acc.Verifiable {
			// md5_crypt: converted (LoginRadius' Crypt_MD5), but the
			// sample's hash is of no known password: check the shape.
			if acc.Algorithm != "md5_crypt" || lr.Hash != g.Hash {
				t.Fatalf("%s: LoginRadius converted an unverifiable %s hash to %q", acc.UID, key, lr.Hash)
			}
			continue
		}
		checkLoginRadius(t, lr, acc.Password)
		c.lrVerified++
	}

	var total count
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		c := counts[k]
		t.Logf("%-30s auth0 verified %4d refused %3d | loginradius converted %4d verified %4d refused %4d", k, c.verified, c.refused, c.lrConverted, c.lrVerified, c.lrRefused)
		total.verified += c.verified
		total.refused += c.refused
	}
	t.Logf("%d accounts: %d without password, %d verified through auth0verify, %d refused", n, noPassword, total.verified, total.refused)
	// The sample must actually exercise every family, or this test proves little.
	for _, k := range []string{"pbkdf2_sha512", "pbkdf2_sha256", "pbkdf2", "bcrypt", "md5", "sha1",
		"sha256 $salt$password", "sha256 $password$salt", "sha512 $salt$password", "md5 $password$salt"} {
		if counts[k] == nil || counts[k].verified == 0 {
			t.Errorf("no verified %s account in the sample", k)
		}
	}
	for _, k := range []string{"md5_crypt", "custom"} {
		if counts[k] == nil || counts[k].refused == 0 {
			t.Errorf("no refused %s account in the sample", k)
		}
	}
	// LoginRadius takes every verifiable family and md5_crypt; only the
	// remote "custom" hash is refused.
	for k, c := range counts {
		switch {
		case k == "custom" && c.lrConverted != 0:
			t.Errorf("LoginRadius converted %d custom hashes", c.lrConverted)
		case k != "custom" && c.lrRefused != 0:
			t.Errorf("LoginRadius refused %d %s hashes", c.lrRefused, k)
		}
	}
}

// decodeAccount decodes an account like the pipeline does, with numbers as
// float64 or, with useNumber, as json.Number.
func decodeAccount(t *testing.T, js []byte, useNumber bool) map[string]any {
	t.Helper()
	var account map[string]any
	dec := json.NewDecoder(bytes.NewReader(js))
	if useNumber {
		dec.UseNumber()
	}
	if err := dec.Decode(&account); err != nil {
		t.Fatal(err)
	}
	return account
}

// checkLoginRadius verifies the password through LoginRadius' documented
// semantics (package lrverify, written from LoginRadius' hashing page, not
// from the converter), and that a wrong password fails.
func checkLoginRadius(t *testing.T, lr passhash.LoginRadiusPassword, password string) {
	t.Helper()
	enc, err := json.Marshal(lr.Encryption)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := lrverify.Verify(enc, lr.Hash, password); err != nil || !ok {
		t.Fatalf("LoginRadius password does not verify: ok=%v err=%v\n%s %s", ok, err, enc, lr.Hash)
	}
	if ok, err := lrverify.Verify(enc, lr.Hash, password+"1"); err != nil || ok {
		t.Fatalf("LoginRadius: wrong password verifies: ok=%v err=%v", ok, err)
	}
}
