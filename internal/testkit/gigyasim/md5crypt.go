package gigyasim

import (
	"crypto/md5"
	"crypto/subtle"
	"strings"
)

// md5-crypt ("$1$", the FreeBSD MD5 crypt(3) scheme) is one of the
// algorithms accounts.importFullAccount takes (docs/apis/gigya.md, "Hash
// algorithms and format templates") and one Auth0 cannot verify, so its
// users are the ones login-time migration exists for. The simulator
// verifies it so that tests can log such a user in with a known password;
// the generated sample keeps its random md5_crypt strings, whose plaintext
// nobody knows.

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// MD5Crypt returns the "$1$<salt>$<hash>" string of password with salt
// (at most its first 8 characters are used, as crypt(3) does), for tests
// that store an md5_crypt account with a known password.
func MD5Crypt(password, salt string) string {
	const magic = "$1$"
	salt = strings.TrimPrefix(salt, magic)
	if i := strings.IndexByte(salt, '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > 8 {
		salt = salt[:8]
	}
	pw := []byte(password)

	alt := md5.New()
	alt.Write(pw)
	alt.Write([]byte(salt))
	alt.Write(pw)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(pw)
	ctx.Write([]byte(magic))
	ctx.Write([]byte(salt))
	for n := len(pw); n > 0; n -= 16 {
		ctx.Write(altSum[:min(n, 16)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 == 1 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final := ctx.Sum(nil)

	// 1000 rounds, to slow a brute force down (as crypt(3) does).
	for i := range 1000 {
		r := md5.New()
		if i&1 == 1 {
			r.Write(pw)
		} else {
			r.Write(final)
		}
		if i%3 != 0 {
			r.Write([]byte(salt))
		}
		if i%7 != 0 {
			r.Write(pw)
		}
		if i&1 == 1 {
			r.Write(final)
		} else {
			r.Write(pw)
		}
		final = r.Sum(nil)
	}

	var b strings.Builder
	b.WriteString(magic)
	b.WriteString(salt)
	b.WriteByte('$')
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			b.WriteByte(cryptAlphabet[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		to64(uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	to64(uint32(final[11]), 2)
	return b.String()
}

// verifyMD5Crypt checks plain against an md5-crypt string: pwUnsupported
// when stored is not one.
func verifyMD5Crypt(stored, plain string) verdict {
	rest, ok := strings.CutPrefix(strings.TrimSpace(stored), "$1$")
	salt, sum, ok2 := strings.Cut(rest, "$")
	if !ok || !ok2 || len(salt) > 8 || len(sum) != 22 {
		return pwUnsupported
	}
	if subtle.ConstantTimeCompare([]byte(MD5Crypt(plain, salt)), []byte(strings.TrimSpace(stored))) == 1 {
		return pwMatch
	}
	return pwMismatch
}
