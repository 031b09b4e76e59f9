package auth0verify

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Bounds on work factors, beyond which Verify returns ErrLimit instead of
// computing. They are far above anything Auth0 or Gigya produce.
const (
	MaxPBKDF2Iterations = 10_000_000
	MaxScryptMemory     = 1 << 30 // bytes: 128 * cost * blockSize
	MaxArgon2Memory     = 1 << 20 // KiB (1 GiB)
	MaxArgon2Time       = 1000
	MaxBcryptCost       = 18 // 2^18 rounds, some seconds; Auth0 itself accepts up to 31
	MaxBcryptInput      = 72 // bytes bcrypt reads; the rest is ignored, as Auth0 documents
)

// Verify reports whether password matches h. The error is non-nil only
// when the check could not be made: the password is not valid UTF-8,
// [ErrNotImplemented], or [ErrLimit].
func (h *Hash) Verify(password string) (bool, error) {
	pw, err := encodePassword(password, h.PasswordEncoding)
	if err != nil {
		return false, err
	}
	switch h.Algorithm {
	case MD4, MD5, SHA1, SHA256, SHA512:
		d := digests[h.Algorithm]()
		d.Write(h.salted(pw))
		return equal(d.Sum(nil), h.value), nil
	case HMAC:
		newHash := digests[h.digest]
		if newHash == nil {
			return false, fmt.Errorf("%w: HMAC-%s", ErrNotImplemented, h.digest)
		}
		mac := hmac.New(newHash, h.key)
		mac.Write(pw)
		return equal(mac.Sum(nil), h.value), nil
	case Bcrypt:
		return verifyBcrypt(h.text, h.salted(pw))
	case PBKDF2:
		return h.pbkdf2.verify(pw)
	case Scrypt:
		return h.verifyScrypt(pw)
	case Argon2:
		return h.argon2.verify(pw)
	case LDAP:
		d := digests[h.ldap.digest]()
		d.Write(pw)
		d.Write(h.ldap.salt)
		return equal(d.Sum(nil), h.ldap.sum), nil
	}
	// Parse admits only the algorithms above.
	return false, fmt.Errorf("%w: algorithm %q", ErrNotImplemented, h.Algorithm)
}

// salted places the salt per salt.position: "prefix" hashes salt+password
// (Auth0: MD5('salt' + 'password') has "position":"prefix").
func (h *Hash) salted(pw []byte) []byte {
	if h.salt == nil {
		return pw
	}
	in := make([]byte, 0, len(h.salt)+len(pw))
	if h.saltPosition == "suffix" {
		return append(append(in, pw...), h.salt...)
	}
	return append(append(in, h.salt...), pw...)
}

// verifyBcrypt checks the salted input, truncated to bcrypt's 72 bytes
// (Auth0: "Any input beyond the 72 byte limit is truncated").
func verifyBcrypt(mcf string, in []byte) (bool, error) {
	if cost, _ := bcrypt.Cost([]byte(mcf)); cost > MaxBcryptCost {
		return false, fmt.Errorf("%w: bcrypt cost %d", ErrLimit, cost)
	}
	if len(in) > MaxBcryptInput {
		in = in[:MaxBcryptInput]
	}
	err := bcrypt.CompareHashAndPassword([]byte(mcf), in)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformed, err)
}

func (p *pbkdf2PHC) verify(pw []byte) (bool, error) {
	newHash := digests[p.digest]
	if newHash == nil {
		return false, fmt.Errorf("%w: PBKDF2 with %s", ErrNotImplemented, p.digest)
	}
	if p.iterations > MaxPBKDF2Iterations {
		return false, fmt.Errorf("%w: %d PBKDF2 iterations", ErrLimit, p.iterations)
	}
	key, err := pbkdf2.Key(newHash, string(pw), p.salt, p.iterations, len(p.hash))
	if err != nil {
		return false, fmt.Errorf("pbkdf2: %w", err)
	}
	return equal(key, p.hash), nil
}

func (h *Hash) verifyScrypt(pw []byte) (bool, error) {
	if uint64(h.cost)*uint64(h.blockSize)*128 > MaxScryptMemory || uint64(h.blockSize)*uint64(h.parallelization) >= 1<<30 {
		return false, fmt.Errorf("%w: scrypt cost %d, blockSize %d, parallelization %d", ErrLimit, h.cost, h.blockSize, h.parallelization)
	}
	salt := h.salt
	if salt == nil {
		salt = []byte{}
	}
	key, err := scrypt.Key(pw, salt, h.cost, h.blockSize, h.parallelization, h.keylen)
	if err != nil {
		return false, fmt.Errorf("%w: scrypt: %v", ErrMalformed, err)
	}
	return equal(key, h.value), nil
}

func (a *argon2PHC) verify(pw []byte) (bool, error) {
	switch {
	case a.variant == "d":
		return false, fmt.Errorf("%w: argon2d", ErrNotImplemented)
	case a.version != 19:
		return false, fmt.Errorf("%w: Argon2 version %d", ErrNotImplemented, a.version)
	case a.memory > MaxArgon2Memory || a.time > MaxArgon2Time || a.threads > 255:
		return false, fmt.Errorf("%w: argon2 m=%d t=%d p=%d", ErrLimit, a.memory, a.time, a.threads)
	}
	derive := argon2.IDKey
	if a.variant == "i" {
		derive = argon2.Key
	}
	key := derive(pw, a.salt, uint32(a.time), uint32(a.memory), uint8(a.threads), uint32(len(a.hash)))
	return equal(key, a.hash), nil
}

func equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
