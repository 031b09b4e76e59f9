package passhash_test

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/auth0verify"
)

// TestSampleAccounts runs the converter over generated Gigya accounts, which
// carry their plaintext passwords: every verifiable password must log in
// through Auth0's rules after conversion (and a wrong one must not), and
// every unverifiable hash must be refused with the code.
func TestSampleAccounts(t *testing.T) {
	t.Parallel()
	const n = 2000
	gen := sample.New(20240128, sample.Options{PBKDF2Rounds: 50, BcryptCost: 4})
	type count struct{ verified, refused, lrConverted, lrRefused int }
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

		lr, err := passhash.LoginRadius(g)
		if err != nil {
			checkUnsupported(t, err, acc.Algorithm, passhash.TargetLoginRadius)
			c.lrRefused++
			continue
		}
		if !acc.Verifiable {
			t.Fatalf("%s: LoginRadius converted an unverifiable %s hash", acc.UID, key)
		}
		checkLoginRadiusPBKDF2(t, lr, acc.Password)
		c.lrConverted++
	}

	var total count
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		c := counts[k]
		t.Logf("%-30s auth0 verified %4d refused %3d | loginradius converted %4d refused %4d", k, c.verified, c.refused, c.lrConverted, c.lrRefused)
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

// checkLoginRadiusPBKDF2 recomputes PBKDF2-HMAC-SHA1 from the fields of
// LoginRadius' output. LoginRadius publishes no verifier semantics (see
// LoginRadius' doc comment), so this checks our own reading of the
// Rfc2898DeriveBytes example for self-consistency, not LoginRadius itself.
func checkLoginRadiusPBKDF2(t *testing.T, lr map[string]any, password string) {
	t.Helper()
	enc, ok := lr[passhash.LRPasswordEncryption].(map[string]any)
	hashStr, ok2 := lr[passhash.LRPasswordHash].(string)
	if !ok || !ok2 || len(lr) != 2 {
		t.Fatalf("LoginRadius output shape: %#v", lr)
	}
	parts := strings.Split(hashStr, "$")
	if len(parts) != 4 || parts[0] != "Rfc2898DeriveBytes" {
		t.Fatalf("PasswordHash %q", hashStr)
	}
	iter, err := strconv.Atoi(parts[1])
	salt, err2 := base64.StdEncoding.DecodeString(parts[2])
	key, err3 := base64.StdEncoding.DecodeString(parts[3])
	if err != nil || err2 != nil || err3 != nil {
		t.Fatalf("PasswordHash %q: %v %v %v", hashStr, err, err2, err3)
	}
	want := map[string]any{"Type": "PBKDF2", "IsPerPasswordSalt": true, "NumberOfIteration": iter, "SaltKeyLength": len(salt), "SubKeyLength": len(key)}
	if fmt.Sprint(enc) != fmt.Sprint(want) {
		t.Fatalf("PasswordEncryption %#v, want %#v", enc, want)
	}
	got, err := pbkdf2.Key(sha1.New, password, salt, iter, len(key))
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("PasswordHash does not recompute from the password (err %v)", err)
	}
}
