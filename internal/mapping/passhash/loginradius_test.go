package passhash_test

import (
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
)

// Every Gigya algorithm and salt placement LoginRadius documents converts,
// and the result verifies through lrverify (LoginRadius' semantics, written
// independently); a wrong password does not.
func TestLoginRadiusConverts(t *testing.T) {
	for _, pw := range passwords {
		cases := map[string]passhash.Gigya{
			"pbkdf2":                       gigyaPBKDF2(t, "pbkdf2", pw, []byte("0123456789abcdef"), 1000, 20),
			"pbkdf2_sha256":                gigyaPBKDF2(t, "pbkdf2_sha256", pw, []byte("0123456789abcdef"), 1000, 32),
			"pbkdf2_sha512 (Gigya native)": gigyaPBKDF2(t, "pbkdf2_sha512", pw, []byte("abcsomething"), 10000, 20),
			"md5":                          gigyaDigest("md5", pw, "", "", 1),
			"sha1":                         gigyaDigest("sha1", pw, "", "", 0),
			"sha256":                       gigyaDigest("sha256", pw, "", "", 1),
			"sha512":                       gigyaDigest("sha512", pw, "", "", 1),
			"md5 $salt$password":           gigyaDigest("md5", pw, "s4lt", "$salt$password", 1),
			"sha1 $password$salt":          gigyaDigest("sha1", pw, "s4lt", "$password$salt", 1),
			"sha256 wikipedia$salt$pw":     gigyaDigest("sha256", pw, "abc", "wikipedia$salt$password", 1),
			"sha512 $password$saltXYZ":     gigyaDigest("sha512", pw, "a:b", "$password$saltXYZ", 1),
			"sha1 constant prefix":         gigyaDigest("sha1", pw, "", "X$password", 1),
			"bcrypt $2a$":                  gigyaBcrypt(t, pw, "", "", "a"),
			"bcrypt $2b$ with template":    gigyaBcrypt(t, pw, "pepper", "$password$salt", "b"),
		}
		for name, g := range cases {
			t.Run(name, func(t *testing.T) {
				lr, err := passhash.LoginRadius(g, passhash.DefaultLoginRadiusOptions())
				if err != nil {
					t.Fatal(err)
				}
				checkLoginRadius(t, lr, pw)
			})
		}
	}
}

// The hash is written in the encodings the options name, the Type values
// come from the options, and an algorithm without a Type is flagged.
func TestLoginRadiusOptions(t *testing.T) {
	pw := "correct horse"
	o, err := passhash.ParseLoginRadiusOptions(map[string]any{
		"types":             map[string]any{"pbkdf2_sha512": "PBKDF2-SHA512", "md5": ""},
		"hash_encoding":     "Hex",
		"salt_encoding":     "hex",
		"salt_attach_types": map[string]any{"append": "Append"},
	})
	if err != nil {
		t.Fatal(err)
	}
	lr, err := passhash.LoginRadius(gigyaPBKDF2(t, "pbkdf2_sha512", pw, []byte("0123456789abcdef"), 100, 20), o)
	if err != nil {
		t.Fatal(err)
	}
	if lr.Encryption["Type"] != "PBKDF2-SHA512" || lr.Encryption["PasswordHashEncodingType"] != "Hex" ||
		lr.Hash != strings.ToLower(lr.Hash) || !strings.HasSuffix(lr.Hash, ":30313233343536373839616263646566") {
		t.Fatalf("options not applied: %q %v", lr.Hash, lr.Encryption)
	}
	checkLoginRadius(t, lr, pw)
	_, err = passhash.LoginRadius(gigyaDigest("md5", pw, "", "", 1), o)
	if ue := checkUnsupported(t, err, "md5", passhash.TargetLoginRadius); !strings.Contains(ue.Reason, "no PasswordEncryption.Type") {
		t.Errorf("reason %q", ue.Reason)
	}
	rfc, _ := passhash.ParseLoginRadiusOptions(map[string]any{"pbkdf2_form": "rfc2898"})
	lr, err = passhash.LoginRadius(gigyaPBKDF2(t, "pbkdf2", pw, []byte("0123456789abcdef"), 1000, 32), rfc)
	if err != nil || !strings.HasPrefix(lr.Hash, "Rfc2898DeriveBytes$1000$MDEyMzQ1Njc4OWFiY2RlZg==$") {
		t.Fatalf("rfc2898 form: %q %v", lr.Hash, err)
	}
	checkLoginRadius(t, lr, pw)
	for _, bad := range []map[string]any{
		{"types": map[string]any{"rot13": "X"}},
		{"hash_encoding": "base32"},
		{"pbkdf2_form": "phc"},
		{"salt_attach_types": map[string]any{"sideways": "x"}},
		{"typos": true},
		{"types": "PBKDF2"},
	} {
		if _, err := passhash.ParseLoginRadiusOptions(bad); err == nil {
			t.Errorf("options %v accepted", bad)
		}
	}
}

// Issue: every Gigya hash but pbkdf2-sha1 was dropped. Now the grouping key
// (PasswordEncryption) is the same for users whose parameters are the same,
// and differs otherwise, so that the bulk sink can group on it.
func TestLoginRadiusEncryptionGroups(t *testing.T) {
	o := passhash.DefaultLoginRadiusOptions()
	a, _ := passhash.LoginRadius(gigyaDigest("sha256", "one", "aaaa", "$salt$password", 1), o)
	b, _ := passhash.LoginRadius(gigyaDigest("sha256", "two", "bbbbbb", "$salt$password", 1), o)
	c, _ := passhash.LoginRadius(gigyaDigest("sha256", "two", "bbbbbb", "$password$salt", 1), o)
	if a.Hash == b.Hash || a.Encryption == nil || !equalMaps(a.Encryption, b.Encryption) || equalMaps(b.Encryption, c.Encryption) {
		t.Fatalf("groups: %v %v %v", a.Encryption, b.Encryption, c.Encryption)
	}
}

func equalMaps(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestLoginRadiusUnsupported(t *testing.T) {
	pb := gigyaPBKDF2(t, "pbkdf2", "pw", []byte("0123456789abcdef"), 10, 20)
	cases := []struct {
		name, alg, reason string
		g                 passhash.Gigya
	}{
		{"iterated digest", "sha1", "iterated", gigyaDigest("sha1", "pw", "", "", 3)},
		{"text on both sides", "md5", "both before and after", gigyaDigest("md5", "pw", "s", "a$password$salt", 1)},
		{"salt without template", "sha256", "salt without a format template", passhash.Gigya{Hash: gigyaDigest("sha256", "pw", "", "", 1).Hash, Algorithm: "sha256", Salt: "s"}},
		{"md5_crypt shape", "md5_crypt", "$1$", passhash.Gigya{Hash: "$1$abcdefgh$short", Algorithm: "md5_crypt"}},
		{"bcrypt $2x$", "bcrypt", "MCF", passhash.Gigya{Hash: "$2x$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K", Algorithm: "bcrypt"}},
		{"custom", "custom", "remote", passhash.Gigya{Hash: "aGFzaA==", Algorithm: "custom"}},
		{"drupal", "drupal", "Drupal", passhash.Gigya{Hash: "$S$x", Algorithm: "drupal"}},
		{"unknown", "rot13", "unknown", passhash.Gigya{Hash: "aGFzaA==", Algorithm: "rot13"}},
		{"pbkdf2 no salt", "pbkdf2", "without a salt", func() passhash.Gigya { g := pb; g.Salt = ""; return g }()},
		{"pbkdf2 binaryFormat", "pbkdf2", "binaryFormat", func() passhash.Gigya { g := pb; g.BinaryFormat = "$password:utf8"; return g }()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lr, err := passhash.LoginRadius(c.g, passhash.DefaultLoginRadiusOptions())
			if lr.Hash != "" || lr.Encryption != nil {
				t.Errorf("got output with the error: %v", lr)
			}
			ue := checkUnsupported(t, err, c.alg, passhash.TargetLoginRadius)
			if !strings.Contains(ue.Reason, c.reason) {
				t.Errorf("reason %q does not mention %q", ue.Reason, c.reason)
			}
		})
	}
}

// md5_crypt goes through as LoginRadius' Crypt_MD5; the vector is OpenSSL's
// (`openssl passwd -1 -salt saltsalt password`).
func TestLoginRadiusMD5Crypt(t *testing.T) {
	g := passhash.Gigya{Hash: "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/", Algorithm: "md5_crypt"}
	lr, err := passhash.LoginRadius(g, passhash.DefaultLoginRadiusOptions())
	if err != nil || lr.Hash != g.Hash || lr.Encryption["Type"] != "Crypt_MD5" {
		t.Fatalf("%v %v", lr, err)
	}
	checkLoginRadius(t, lr, "password")
}
