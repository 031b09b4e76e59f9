package passhash_test

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
	"golang.org/x/crypto/bcrypt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/auth0verify"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// The helpers below play Gigya: they hash a known password the way
// docs/apis/gigya.md ("Hash algorithms and format templates") describes,
// using nothing from package passhash, so that a conversion can be checked
// end to end against auth0verify.

var gigyaDigests = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New,
	"pbkdf2": sha1.New, "pbkdf2_sha256": sha256.New, "pbkdf2_sha512": sha512.New,
}

// gigyaInput is the clear text Gigya hashes: the format template with its
// placeholders replaced (one pass, left to right), or the password alone.
func gigyaInput(password, salt, format string) string {
	if format == "" {
		return password
	}
	return strings.NewReplacer("$password", password, "$salt", salt).Replace(format)
}

// gigyaDigest exports a (salted) plain digest: hash is standard base64 and
// the salt is clear text, as with a format template.
func gigyaDigest(alg, password, salt, format string, rounds int) passhash.Gigya {
	d := gigyaDigests[alg]()
	d.Write([]byte(gigyaInput(password, salt, format)))
	return passhash.Gigya{Hash: base64.StdEncoding.EncodeToString(d.Sum(nil)), Algorithm: alg, Rounds: rounds, Salt: salt, Format: format}
}

// gigyaPBKDF2 exports a PBKDF2 hash: salt and derived key as standard
// padded base64, rounds the iteration count.
func gigyaPBKDF2(t testing.TB, alg, password string, salt []byte, rounds, keyLen int) passhash.Gigya {
	t.Helper()
	key, err := pbkdf2.Key(gigyaDigests[alg], password, salt, rounds, keyLen)
	if err != nil {
		t.Fatal(err)
	}
	return passhash.Gigya{
		Hash: base64.StdEncoding.EncodeToString(key), Algorithm: alg, Rounds: rounds,
		Salt: base64.StdEncoding.EncodeToString(salt),
	}
}

// gigyaBcrypt exports a bcrypt hash as an MCF string with the given minor
// version ($2a$, $2b$ and $2y$ are the same algorithm for such inputs).
func gigyaBcrypt(t testing.TB, password, salt, format, minor string) passhash.Gigya {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(gigyaInput(password, salt, format)), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return passhash.Gigya{Hash: "$2" + minor + string(h[3:]), Algorithm: "bcrypt", Rounds: 1 << bcrypt.MinCost, Salt: salt, Format: format}
}

// checkAuth0 converts g, sends the result through JSON as a loader would,
// and verifies that right logs in and wrong does not. It returns the JSON.
func checkAuth0(t testing.TB, g passhash.Gigya, right, wrong string) []byte {
	t.Helper()
	obj, err := passhash.Auth0(g)
	if err != nil {
		t.Fatalf("Auth0(%+v): %v", g, err)
	}
	js, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth0verify.Verify(js, right); err != nil || !ok {
		t.Fatalf("right password %q does not verify: ok=%v err=%v\n%s", right, ok, err, js)
	}
	if ok, err := auth0verify.Verify(js, wrong); err != nil || ok {
		t.Fatalf("wrong password %q verifies: ok=%v err=%v\n%s", wrong, ok, err, js)
	}
	return js
}

// checkUnsupported asserts every promise about a refusal: the sentinel,
// the typed error naming the algorithm and target, the code, and the
// fault classification.
func checkUnsupported(t testing.TB, err error, alg, target string) *passhash.UnsupportedError {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: want an unsupported error, got nil", alg)
	}
	if !errors.Is(err, passhash.ErrUnsupported) {
		t.Errorf("%s: errors.Is(err, ErrUnsupported) is false: %v", alg, err)
	}
	var ue *passhash.UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("%s: errors.As(*UnsupportedError) failed: %v", alg, err)
	}
	if ue.Algorithm != alg || ue.Target != target || ue.Reason == "" || ue.Code() != passhash.CodeUnsupported {
		t.Errorf("%s: UnsupportedError = %+v, code %q", alg, ue, ue.Code())
	}
	name := alg
	if name == "" {
		name = "(none)"
	}
	if !strings.Contains(err.Error(), `"`+name+`"`) || !strings.Contains(err.Error(), ue.Reason) {
		t.Errorf("%s: message %q does not name the algorithm and reason", alg, err)
	}
	if kind, code := fault.Classify(err); kind != fault.KindPermanent || code != passhash.CodeUnsupported {
		t.Errorf("%s: fault.Classify = %v %q", alg, kind, code)
	}
	return ue
}
