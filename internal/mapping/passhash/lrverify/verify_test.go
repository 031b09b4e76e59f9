package lrverify_test

import (
	"errors"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/lrverify"
)

// The vectors come from outside this repository: FIPS 180 ("abc"), RFC
// 6070 and RFC 7914 (PBKDF2), OpenSSL (`openssl passwd -1`, md5-crypt),
// Python's hashlib (salted digests, PBKDF2-SHA512, the Rfc2898 form),
// coreutils md5sum/sha256sum, and Auth0's bcrypt example ("hello").
func TestVectors(t *testing.T) {
	cases := []struct {
		name, enc, hash, password string
	}{
		{"md5 hex default", `{"Type":"MD5"}`, "5f4dcc3b5aa765d61d8327deb882cf99", "password"},
		{"sha1", `{"Type":"SHA1","PasswordHashEncodingType":"Hex"}`, "a9993e364706816aba3e25717850c26c9cd0d89d", "abc"},
		{"sha-256 spelling", `{"Type":"SHA-256"}`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc"},
		{"sha512", `{"Type":"sha512","SaltAttachType":"None","IsPerPasswordSalt":false}`,
			"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", "abc"},
		{"md5 per-user append", `{"Type":"MD5","IsPerPasswordSalt":true,"SaltAttachType":"Append"}`, "b305cadbb3bce54f3aa59c64fec00dea:salt", "password"},
		{"sha256 universal prepend", `{"Type":"SHA256","Salt":"salt","SaltAttachType":"Prepend"}`, "13601bda4ea78e55a07b98866d2be6be0744e3866f13c00c811cab608a28f322", "password"},
		{"sha512 base64 prepend, salt with a colon", `{"Type":"SHA512","IsPerPasswordSalt":true,"SaltAttachType":"Prepend","PasswordHashEncodingType":"Base64"}`,
			"jwtk+pGI/2ma2mrs3hk5yZPk8+Yg/u75cVgCYn2J7EfQNv4cH1q+ELxH9e/Jg2jRNYoP3oMb6e2Bq0UxVlG48A==:xyz", "päss"},
		{"pbkdf2 rfc 6070", `{"Type":"PBKDF2","Salt":"salt","NumberOfIteration":4096}`, "4b007901b765489abead49d926f721d065a429c1", "password"},
		{"pbkdf2 per-user base64", `{"Type":"PBKDF2","IsPerPasswordSalt":true,"SaltAttachType":"None","NumberOfIteration":2,"SubKeyLength":20,"SaltKeyLength":4,"PasswordHashEncodingType":"Hex","PasswordSaltEncodingType":"Base64"}`,
			"ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957:c2FsdA==", "password"},
		{"pbkdf2 sha256 rfc 7914", `{"Type":"PBKDF2_SHA256","Salt":"salt","NumberOfIteration":1}`,
			"55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783", "passwd"},
		{"pbkdf2 sha512", `{"Type":"PBKDF2-SHA512","IsPerPasswordSalt":true,"NumberOfIteration":1000}`, "6d3d85ab0b2085ce9b31b6737517900170be315b:NaCl", "password"},
		{"rfc2898 form", `{"Type":"PBKDF2"}`, "Rfc2898DeriveBytes$1000$AAECAwQFBgcICQoLDA0ODw==$+m7/xlmdZxquTqX33Ur5sOgJSDqOgcpFnScDXPew/Xo=:BA4zsWmfF", "pw"},
		{"bcrypt", `{"Type":"BCrypt"}`, "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K", "hello"},
		{"crypt_md5", `{"Type":"Crypt_MD5"}`, "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/", "password"},
		{"crypt_md5 utf-8", `{"Type":"CRYPT_MD5"}`, "$1$ab$bRZzLnQPD1ql12pSoshc71", "pässwörd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, err := lrverify.Verify([]byte(c.enc), c.hash, c.password)
			if err != nil || !ok {
				t.Fatalf("right password: ok=%v err=%v", ok, err)
			}
			ok, err = lrverify.Verify([]byte(c.enc), c.hash, c.password+"x")
			if err != nil || ok {
				t.Fatalf("wrong password: ok=%v err=%v", ok, err)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	cases := []struct{ name, enc, hash string }{
		{"no type", `{}`, "x"},
		{"unknown member", `{"Type":"MD5","Pepper":"x"}`, "x"},
		{"bad attach", `{"Type":"MD5","SaltAttachType":"Sideways"}`, "x"},
		{"per-user without colon", `{"Type":"MD5","IsPerPasswordSalt":true,"SaltAttachType":"Append"}`, "5f4dcc3b5aa765d61d8327deb882cf99"},
		{"digest size", `{"Type":"SHA1"}`, "5f4dcc3b5aa765d61d8327deb882cf99"},
		{"not hex", `{"Type":"MD5"}`, "zz4dcc3b5aa765d61d8327deb882cf99"},
		{"sub key length", `{"Type":"PBKDF2","Salt":"salt","NumberOfIteration":2,"SubKeyLength":32}`, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
		{"pbkdf2 rounds", `{"Type":"PBKDF2","Salt":"salt"}`, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
		{"universal attach without salt", `{"Type":"MD5","SaltAttachType":"Append"}`, "5f4dcc3b5aa765d61d8327deb882cf99"},
		{"crypt_md5 shape", `{"Type":"Crypt_MD5"}`, "$1$saltsalt$short"},
		{"bcrypt shape", `{"Type":"BCrypt"}`, "$2x$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, err := lrverify.Verify([]byte(c.enc), c.hash, "password")
			if ok || !errors.Is(err, lrverify.ErrMalformed) {
				t.Fatalf("ok=%v err=%v, want ErrMalformed", ok, err)
			}
		})
	}
	if _, err := lrverify.Parse([]byte(`{"Type":"Argon2id"}`)); !errors.Is(err, lrverify.ErrNotImplemented) {
		t.Errorf("Argon2id: %v", err)
	}
	if _, err := lrverify.Parse([]byte(`{"Type":"PBKDF2","SaltAttachType":"Append","IsPerPasswordSalt":true}`)); !errors.Is(err, lrverify.ErrNotImplemented) {
		t.Errorf("PBKDF2 with an attached salt: %v", err)
	}
	if _, err := lrverify.Parse([]byte(`{"Type":"PBKDF2","NumberOfIteration":100000000}`)); !errors.Is(err, lrverify.ErrLimit) {
		t.Errorf("iterations: %v", err)
	}
}
