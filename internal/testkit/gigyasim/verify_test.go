package gigyasim

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func pwJSON(hash, alg string, rounds int, salt, format string) []byte {
	return fmt.Appendf(nil, `{"UID":"u","password":{"hash":%q,"hashSettings":{"algorithm":%q,"rounds":%d,"salt":%q,"format":%q}}}`,
		hash, alg, rounds, salt, format)
}

func TestVerifyPasswordLayouts(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	salt := []byte("0123456789abcdef")
	pb512, _ := pbkdf2.Key(sha512.New, "pässwörd", salt, 7, 20)
	pb256, _ := pbkdf2.Key(sha256.New, "pässwörd", salt, 7, 32)
	pb1, _ := pbkdf2.Key(sha1.New, "pässwörd", salt, 7, 20)
	md5sum := md5.Sum([]byte("pässwörd"))
	sha1Salted := sha1.Sum([]byte("wikipediaSALTpässwörd"))
	sha256Suffix := sha256.Sum256([]byte("pässwörd$saltSALT")) // "$salt" inside the password stays literal
	sha512sum := sha512.Sum512([]byte("SALTpässwörd"))
	bc, err := bcrypt.GenerateFromPassword([]byte("pässwörd"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, plain string
		raw         []byte
		want        verdict
	}{
		{"pbkdf2_sha512", "pässwörd", pwJSON(b64(pb512), "pbkdf2_sha512", 7, b64(salt), ""), pwMatch},
		{"pbkdf2_sha512 wrong", "passwörd", pwJSON(b64(pb512), "pbkdf2_sha512", 7, b64(salt), ""), pwMismatch},
		{"pbkdf2_sha512 unpadded salt", "pässwörd", pwJSON(b64(pb512), "pbkdf2_sha512", 7, base64.RawStdEncoding.EncodeToString(salt)+"==", ""), pwMatch},
		{"pbkdf2_sha256", "pässwörd", pwJSON(b64(pb256), "pbkdf2_sha256", 7, b64(salt), ""), pwMatch},
		{"pbkdf2 sha1", "pässwörd", pwJSON(b64(pb1), "PBKDF2", 7, b64(salt), ""), pwMatch},
		{"pbkdf2 wrong rounds", "pässwörd", pwJSON(b64(pb1), "pbkdf2", 8, b64(salt), ""), pwMismatch},
		{"pbkdf2 no rounds", "pässwörd", pwJSON(b64(pb1), "pbkdf2", 0, b64(salt), ""), pwUnsupported},
		{"md5 unsalted", "pässwörd", pwJSON(b64(md5sum[:]), "md5", 1, "", ""), pwMatch},
		{"md5 unsalted rounds 0", "pässwörd", pwJSON(b64(md5sum[:]), "md5", 0, "", ""), pwMatch},
		{"sha1 constant prefix + salt", "pässwörd", pwJSON(b64(sha1Salted[:]), "sha1", 1, "SALT", "wikipedia$salt$password"), pwMatch},
		{"sha256 single-pass format", "pässwörd$salt", pwJSON(b64(sha256Suffix[:]), "sha256", 1, "SALT", "$password$salt"), pwMatch},
		{"sha512 salt prefix", "pässwörd", pwJSON(b64(sha512sum[:]), "sha512", 1, "SALT", "$salt$password"), pwMatch},
		{"sha512 wrong", "x", pwJSON(b64(sha512sum[:]), "sha512", 1, "SALT", "$salt$password"), pwMismatch},
		{"salt without format", "pässwörd", pwJSON(b64(sha512sum[:]), "sha512", 1, "SALT", ""), pwUnsupported},
		{"format without $password", "pässwörd", pwJSON(b64(sha512sum[:]), "sha512", 1, "SALT", "$salt"), pwUnsupported},
		{"digest rounds > 1", "pässwörd", pwJSON(b64(md5sum[:]), "md5", 2, "", ""), pwUnsupported},
		{"bcrypt", "pässwörd", pwJSON(string(bc), "bcrypt", 16, "", ""), pwMatch},
		{"bcrypt wrong", "passwörd", pwJSON(string(bc), "bcrypt", 16, "", ""), pwMismatch},
		{"bcrypt garbage", "x", pwJSON("$2a$nope", "bcrypt", 16, "", ""), pwUnsupported},
		{"md5_crypt", "Tr0ub4dor&3", pwJSON("$1$abcdefgh$FErPkDeIHv781e9EexumS.", "md5_crypt", 0, "", ""), pwMatch},
		{"md5_crypt wrong", "x", pwJSON("$1$abcdefgh$0123456789012345678901", "md5_crypt", 0, "", ""), pwMismatch},
		{"md5_crypt not MCF", "x", pwJSON("abcdefgh", "md5_crypt", 0, "", ""), pwUnsupported},
		{"custom", "x", pwJSON("AAAA", "custom", 0, "AAAA", ""), pwUnsupported},
		{"sha512Hexa", "x", pwJSON("abcd", "sha512Hexa", 1, "", ""), pwUnsupported},
		{"no password", "x", []byte(`{"UID":"u"}`), pwNone},
	}
	for _, c := range cases {
		if got := verifyPassword(c.raw, c.plain); got != c.want {
			t.Errorf("%s: verdict %d, want %d", c.name, got, c.want)
		}
	}
}

func TestProjectPaths(t *testing.T) {
	raw := []byte(`{"UID":"u1","profile":{"email":"a@b","firstName":"A"},"identities":[{"provider":"site","email":"a@b"},{"provider":"facebook"}],"big":12345678901234567}`)
	got, err := project(raw, []string{"identities.email", "identities.provider", "big", "profile.firstName", "nope.x"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"UID":"u1","big":12345678901234567,"identities":[{"email":"a@b","provider":"site"},{"provider":"facebook"}],"profile":{"firstName":"A"}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestMD5CryptVectors checks MD5Crypt against strings made by an
// independent implementation (openssl passwd -1 -salt <salt> <password>).
func TestMD5CryptVectors(t *testing.T) {
	for _, v := range []struct{ password, salt, want string }{
		{"password", "saltsalt", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"},
		{"Tr0ub4dor&3", "abcdefgh", "$1$abcdefgh$FErPkDeIHv781e9EexumS."},
		{"pässwörd", "x", "$1$x$JCGkBY00FL7KZ2Wf1VmLX."},
		{"", "12345678", "$1$12345678$xek.CpjQUVgdf/P2N9KQf/"},
		{"a fairly long password of more than sixteen bytes", "a.b/c", "$1$a.b/c$Reyck6zcIhZctqod/0TJv1"},
		{"password", "saltsaltEXTRA", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"}, // crypt(3) keeps 8 salt characters
	} {
		if got := MD5Crypt(v.password, v.salt); got != v.want {
			t.Errorf("MD5Crypt(%q, %q) = %s, want %s", v.password, v.salt, got, v.want)
		}
		if v.salt != "saltsaltEXTRA" && verifyMD5Crypt(v.want, v.password) != pwMatch {
			t.Errorf("verifyMD5Crypt(%s, %q) does not match", v.want, v.password)
		}
	}
}
