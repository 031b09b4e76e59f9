package lrverify_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/lrverify"
)

// FuzzVerify feeds arbitrary configurations and hashes to the verifier: it
// must never panic, and every error must be one of its three.
func FuzzVerify(f *testing.F) {
	f.Add(`{"Type":"MD5","IsPerPasswordSalt":true,"SaltAttachType":"Append"}`, "b305cadbb3bce54f3aa59c64fec00dea:salt", "password")
	f.Add(`{"Type":"PBKDF2","IsPerPasswordSalt":true,"NumberOfIteration":2,"PasswordSaltEncodingType":"Base64"}`, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957:c2FsdA==", "password")
	f.Add(`{"Type":"PBKDF2"}`, "Rfc2898DeriveBytes$1$AAECAw==$+m7/xlmd:x", "pw")
	f.Add(`{"Type":"Crypt_MD5"}`, "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/", "password")
	f.Add(`{"Type":"BCrypt","SaltAttachType":"Prepend","IsPerPasswordSalt":true}`, "$2b$04$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K:x", "hello")
	f.Fuzz(func(t *testing.T, enc, hash, password string) {
		// Keep the work factors small: the fuzzer looks for panics, not
		// for slow hashes (the limits bound those).
		if e, err := lrverify.Parse([]byte(enc)); err == nil && e.NumberOfIteration > 1000 {
			return
		}
		if rest, ok := strings.CutPrefix(hash, "Rfc2898DeriveBytes$"); ok {
			if n, err := strconv.Atoi(strings.SplitN(rest, "$", 2)[0]); err != nil || n > 1000 {
				return
			}
		}
		if cost, err := bcrypt.Cost([]byte(strings.SplitN(hash, ":", 2)[0])); err == nil && cost > 6 {
			return
		}
		_, err := lrverify.Verify([]byte(enc), hash, password)
		if err != nil && !errors.Is(err, lrverify.ErrMalformed) && !errors.Is(err, lrverify.ErrNotImplemented) && !errors.Is(err, lrverify.ErrLimit) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
