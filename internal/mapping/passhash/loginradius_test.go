package passhash_test

import (
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
)

func TestLoginRadiusPBKDF2(t *testing.T) {
	for _, pw := range passwords {
		g := gigyaPBKDF2(t, "pbkdf2", pw, []byte("0123456789abcdef"), 1000, 32)
		lr, err := passhash.LoginRadius(g)
		if err != nil {
			t.Fatal(err)
		}
		checkLoginRadiusPBKDF2(t, lr, pw)
		// Unpadded or over-padded exports give the same canonical output.
		for _, v := range exportVariants(g) {
			lr2, err := passhash.LoginRadius(v)
			if err != nil || lr2[passhash.LRPasswordHash] != lr[passhash.LRPasswordHash] {
				t.Errorf("variant %+v: %v %v", v, lr2, err)
			}
		}
	}
}

func TestLoginRadiusUnsupported(t *testing.T) {
	pb := gigyaPBKDF2(t, "pbkdf2", "pw", []byte("0123456789abcdef"), 10, 20)
	cases := []struct {
		name, alg, reason string
		g                 passhash.Gigya
	}{
		{"pbkdf2_sha512", "pbkdf2_sha512", "HMAC-SHA512", gigyaPBKDF2(t, "pbkdf2_sha512", "pw", []byte("salt"), 10, 20)},
		{"pbkdf2_sha256", "pbkdf2_sha256", "HMAC-SHA256", gigyaPBKDF2(t, "pbkdf2_sha256", "pw", []byte("salt"), 10, 32)},
		{"sha1", "sha1", "Type value", gigyaDigest("sha1", "pw", "", "", 1)},
		{"sha256 salted", "sha256", "SaltAttachType", gigyaDigest("sha256", "pw", "s", "$salt$password", 1)},
		{"md5", "md5", "not among", gigyaDigest("md5", "pw", "", "", 1)},
		{"sha512", "sha512", "not among", gigyaDigest("sha512", "pw", "s", "$password$salt", 1)},
		{"bcrypt", "bcrypt", "bcrypt", gigyaBcrypt(t, "pw", "", "", "a")},
		{"md5_crypt", "md5_crypt", "md5-crypt", passhash.Gigya{Hash: "$1$abcdefgh$0123456789012345678901", Algorithm: "md5_crypt"}},
		{"custom", "custom", "remote", passhash.Gigya{Hash: "aGFzaA==", Algorithm: "custom"}},
		{"unknown", "rot13", "unknown", passhash.Gigya{Hash: "aGFzaA==", Algorithm: "rot13"}},
		{"pbkdf2 no salt", "pbkdf2", "without a salt", func() passhash.Gigya { g := pb; g.Salt = ""; return g }()},
		{"pbkdf2 binaryFormat", "pbkdf2", "binaryFormat", func() passhash.Gigya { g := pb; g.BinaryFormat = "$password:utf8"; return g }()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lr, err := passhash.LoginRadius(c.g)
			if lr != nil {
				t.Errorf("got output with the error: %v", lr)
			}
			ue := checkUnsupported(t, err, c.alg, passhash.TargetLoginRadius)
			if !strings.Contains(ue.Reason, c.reason) {
				t.Errorf("reason %q does not mention %q", ue.Reason, c.reason)
			}
		})
	}
}
