package sample

import (
	"encoding/base64"
	"fmt"

	"golang.org/x/crypto/blowfish"
)

// golang.org/x/crypto/bcrypt always draws its salt from crypto/rand, which
// would make the output differ on every run. bcryptHash is the same
// algorithm (OpenBSD eksblowfish, as in x/crypto/bcrypt) with the salt
// passed in, so the sample stays reproducible; the tests check its output
// with bcrypt.CompareHashAndPassword.

// bcryptEncoding is bcrypt's base64 variant: its own alphabet, no padding.
var bcryptEncoding = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

// bcryptHash returns the MCF string "$2<minor>$<cost>$<salt><hash>".
// password must be at most 72 bytes, the most bcrypt reads.
func bcryptHash(password []byte, cost int, salt [16]byte, minor byte) string {
	// bcrypt keys Blowfish with the NUL-terminated password.
	key := append(password[:len(password):len(password)], 0)
	c, err := blowfish.NewSaltedCipher(key, salt[:])
	if err != nil {
		// Only an empty key fails, and key holds at least the NUL.
		panic(fmt.Sprintf("sample: bcrypt setup: %v", err))
	}
	for i := uint64(0); i < 1<<uint(cost); i++ {
		blowfish.ExpandKey(key, c)
		blowfish.ExpandKey(salt[:], c)
	}
	ctext := []byte("OrpheanBeholderScryDoubt")
	for i := 0; i < len(ctext); i += 8 {
		for j := 0; j < 64; j++ {
			c.Encrypt(ctext[i:i+8], ctext[i:i+8])
		}
	}
	// Only 23 of the 24 bytes are kept, a historical quirk every
	// implementation reproduces.
	return fmt.Sprintf("$2%c$%02d$%s%s", minor, cost,
		bcryptEncoding.EncodeToString(salt[:]), bcryptEncoding.EncodeToString(ctext[:23]))
}
