package lrverify

import (
	"bytes"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

var (
	// ErrMalformed matches (errors.Is) every error for a PasswordEncryption
	// object or a PasswordHash that breaks the documented shape, or that can
	// never verify any password.
	ErrMalformed = errors.New("malformed LoginRadius password hash")
	// ErrNotImplemented is returned for a Type or a combination (PBKDF2 with
	// an attached salt, Argon2, PHPass, ...) that LoginRadius lists but this
	// package does not compute.
	ErrNotImplemented = errors.New("LoginRadius hash variant not implemented by this verifier")
	// ErrLimit is returned when a work factor exceeds this package's bounds.
	ErrLimit = errors.New("LoginRadius hash work factor exceeds the verifier's limits")
)

// Bounds beyond which Verify refuses to compute.
const (
	MaxPBKDF2Iterations = 10_000_000
	MaxBcryptCost       = 18
)

// Algorithm is a Type this package computes, in canonical spelling.
type Algorithm string

// The algorithms, canonical spellings of PasswordEncryption.Type.
const (
	MD5          Algorithm = "MD5"
	SHA1         Algorithm = "SHA1"
	SHA256       Algorithm = "SHA256"
	SHA512       Algorithm = "SHA512"
	PBKDF2       Algorithm = "PBKDF2"
	PBKDF2SHA256 Algorithm = "PBKDF2_SHA256"
	PBKDF2SHA512 Algorithm = "PBKDF2_SHA512"
	BCrypt       Algorithm = "BCrypt"
	CryptMD5     Algorithm = "Crypt_MD5"
)

// known maps a Type folded by fold to its algorithm.
var known = map[string]Algorithm{}

func init() {
	for _, a := range []Algorithm{MD5, SHA1, SHA256, SHA512, PBKDF2, PBKDF2SHA256, PBKDF2SHA512, BCrypt, CryptMD5} {
		known[fold(string(a))] = a
	}
}

// fold lower-cases s and drops "-" and "_", so that SHA-1, sha1 and SHA_1
// compare equal.
func fold(s string) string {
	return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// Attach is SaltAttachType.
type Attach string

// The attached salt types of LoginRadius' hashing page.
const (
	AttachNone    Attach = "None"
	AttachAppend  Attach = "Append"
	AttachPrepend Attach = "Prepend"
)

// Encryption is a parsed PasswordEncryption object.
type Encryption struct {
	Type              Algorithm
	IsPerPasswordSalt bool
	Salt              string // the universal salt, used when IsPerPasswordSalt is false
	SaltAttachType    Attach
	NumberOfIteration int
	SaltKeyLength     int
	SubKeyLength      int
	HashEncoding      string // "base64" or "hex"
	SaltEncoding      string // "base64", "hex" or "utf8"
}

// wire is the JSON object. Pointers tell absent from zero.
type wire struct {
	Type                      *string `json:"Type"`
	IsPerPasswordSalt         *bool   `json:"IsPerPasswordSalt"`
	Salt                      *string `json:"Salt"`
	SaltAttachType            *string `json:"SaltAttachType"`
	NumberOfIteration         *int    `json:"NumberOfIteration"`
	SaltKeyLength             *int    `json:"SaltKeyLength"`
	SubKeyLength              *int    `json:"SubKeyLength"`
	PasswordHashEncodingType  *string `json:"PasswordHashEncodingType"`
	PasswordSaltEncodingType  *string `json:"PasswordSaltEncodingType"`
	PlaintextPasswordEncoding *string `json:"PlaintextPasswordEncoding"`
	PasswordHasherVersion     any     `json:"PasswordHasherVersion"`
	PasswordHashMemory        *int    `json:"PasswordHashMemory"`
	PasswordHashThread        *int    `json:"PasswordHashThread"`
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Parse reads a PasswordEncryption object. Unknown members, a missing or
// unknown Type, an unknown SaltAttachType or encoding, and a negative
// length are errors matching [ErrMalformed]; a Type LoginRadius lists that
// is not computed here matches [ErrNotImplemented].
func Parse(data []byte) (*Encryption, error) {
	var w wire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, malformed("PasswordEncryption: %v", err)
	}
	if dec.More() {
		return nil, malformed("PasswordEncryption: trailing data")
	}
	if w.Type == nil || strings.TrimSpace(*w.Type) == "" {
		return nil, malformed("PasswordEncryption.Type is required")
	}
	e := &Encryption{SaltAttachType: AttachNone}
	a, ok := known[fold(*w.Type)]
	if !ok {
		return nil, fmt.Errorf("%w: PasswordEncryption.Type %q", ErrNotImplemented, *w.Type)
	}
	e.Type = a
	if w.IsPerPasswordSalt != nil {
		e.IsPerPasswordSalt = *w.IsPerPasswordSalt
	}
	if w.Salt != nil {
		e.Salt = *w.Salt
	}
	if w.SaltAttachType != nil {
		switch fold(*w.SaltAttachType) {
		case "none", "":
			e.SaltAttachType = AttachNone
		case "append":
			e.SaltAttachType = AttachAppend
		case "prepend":
			e.SaltAttachType = AttachPrepend
		default:
			return nil, malformed("PasswordEncryption.SaltAttachType %q: want None, Append or Prepend", *w.SaltAttachType)
		}
	}
	for name, p := range map[string]*int{"NumberOfIteration": w.NumberOfIteration, "SaltKeyLength": w.SaltKeyLength, "SubKeyLength": w.SubKeyLength} {
		if p != nil && *p < 0 {
			return nil, malformed("PasswordEncryption.%s is negative", name)
		}
	}
	if w.NumberOfIteration != nil {
		e.NumberOfIteration = *w.NumberOfIteration
	}
	if w.SaltKeyLength != nil {
		e.SaltKeyLength = *w.SaltKeyLength
	}
	if w.SubKeyLength != nil {
		e.SubKeyLength = *w.SubKeyLength
	}
	var err error
	if e.HashEncoding, err = encoding(w.PasswordHashEncodingType, "hex", "PasswordHashEncodingType", false); err != nil {
		return nil, err
	}
	if e.SaltEncoding, err = encoding(w.PasswordSaltEncodingType, "utf8", "PasswordSaltEncodingType", true); err != nil {
		return nil, err
	}
	if w.PlaintextPasswordEncoding != nil {
		if f := fold(*w.PlaintextPasswordEncoding); f != "utf8" && f != "" {
			return nil, fmt.Errorf("%w: PlaintextPasswordEncoding %q (only UTF8)", ErrNotImplemented, *w.PlaintextPasswordEncoding)
		}
	}
	if w.PasswordHashMemory != nil || w.PasswordHashThread != nil {
		return nil, malformed("PasswordHashMemory and PasswordHashThread belong to Argon2, not %s", e.Type)
	}
	if !e.IsPerPasswordSalt && e.SaltAttachType != AttachNone && e.Salt == "" {
		return nil, malformed("SaltAttachType %s with a universal salt needs PasswordEncryption.Salt", e.SaltAttachType)
	}
	switch e.Type {
	case PBKDF2, PBKDF2SHA256, PBKDF2SHA512:
		if e.SaltAttachType != AttachNone {
			return nil, fmt.Errorf("%w: %s with SaltAttachType %s (which salt would PBKDF2 take?)", ErrNotImplemented, e.Type, e.SaltAttachType)
		}
		if e.NumberOfIteration > MaxPBKDF2Iterations {
			return nil, fmt.Errorf("%w: %d iterations", ErrLimit, e.NumberOfIteration)
		}
	}
	return e, nil
}

// encoding reads an encoding type: Base64, Hex, or with text UTF8.
func encoding(v *string, def, name string, text bool) (string, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return def, nil
	}
	switch f := fold(*v); {
	case f == "base64":
		return "base64", nil
	case f == "hex":
		return "hex", nil
	case text && (f == "utf8" || f == "text" || f == "plain"):
		return "utf8", nil
	}
	return "", malformed("PasswordEncryption.%s %q", name, *v)
}

// Verify parses encryption and checks password against passwordHash.
func Verify(encryption []byte, passwordHash, password string) (bool, error) {
	e, err := Parse(encryption)
	if err != nil {
		return false, err
	}
	return e.Verify(passwordHash, password)
}

// Verify reports whether password matches passwordHash under e. The error
// is non-nil only when the check could not be made.
func (e *Encryption) Verify(passwordHash, password string) (bool, error) {
	stored, salt := passwordHash, e.Salt
	if e.IsPerPasswordSalt {
		var ok bool
		// The per-user salt follows the first ":": no encoded hash contains
		// one, a salt may.
		stored, salt, ok = strings.Cut(passwordHash, ":")
		if !ok && !(e.Type == PBKDF2 && strings.HasPrefix(passwordHash, rfcPrefix)) {
			return false, malformed("IsPerPasswordSalt is true but the PasswordHash has no \":<salt>\"")
		}
	}
	switch e.Type {
	case PBKDF2, PBKDF2SHA256, PBKDF2SHA512:
		return e.verifyPBKDF2(passwordHash, stored, salt, password)
	}
	input, err := e.attach(password, salt)
	if err != nil {
		return false, err
	}
	switch e.Type {
	case MD5, SHA1, SHA256, SHA512:
		want, err := decode(stored, e.HashEncoding)
		if err != nil {
			return false, malformed("PasswordHash is not %s: %v", e.HashEncoding, err)
		}
		h := digests[e.Type]()
		if len(want) != h.Size() {
			return false, malformed("a %s hash has %d bytes, this one %d", e.Type, h.Size(), len(want))
		}
		h.Write(input)
		return subtle.ConstantTimeCompare(h.Sum(nil), want) == 1, nil
	case BCrypt:
		cost, err := bcrypt.Cost([]byte(stored))
		if err != nil {
			return false, malformed("not a bcrypt hash: %v", err)
		}
		if !strings.HasPrefix(stored, "$2a$") && !strings.HasPrefix(stored, "$2b$") && !strings.HasPrefix(stored, "$2y$") {
			return false, malformed("bcrypt variant %q", stored[:min(len(stored), 4)])
		}
		if cost > MaxBcryptCost {
			return false, fmt.Errorf("%w: bcrypt cost %d", ErrLimit, cost)
		}
		if len(input) > 72 {
			// bcrypt reads 72 bytes; Go's implementation refuses longer input.
			input = input[:72]
		}
		err = bcrypt.CompareHashAndPassword([]byte(stored), input)
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, nil
		}
		if err != nil {
			return false, malformed("bcrypt: %v", err)
		}
		return true, nil
	case CryptMD5:
		got, err := md5Crypt(input, stored)
		if err != nil {
			return false, err
		}
		return subtle.ConstantTimeCompare([]byte(got), []byte(stored)) == 1, nil
	}
	return false, fmt.Errorf("%w: %s", ErrNotImplemented, e.Type)
}

// attach places the salt as SaltAttachType says; the salt text is decoded
// first when PasswordSaltEncodingType names a binary encoding.
func (e *Encryption) attach(password, salt string) ([]byte, error) {
	if e.SaltAttachType == AttachNone {
		return []byte(password), nil
	}
	s, err := decode(salt, e.SaltEncoding)
	if err != nil {
		return nil, malformed("salt is not %s: %v", e.SaltEncoding, err)
	}
	if e.SaltAttachType == AttachAppend {
		return append([]byte(password), s...), nil
	}
	return append(s, password...), nil
}

var digests = map[Algorithm]func() hash.Hash{MD5: md5.New, SHA1: sha1.New, SHA256: sha256.New, SHA512: sha512.New}

var pbkdf2Digests = map[Algorithm]func() hash.Hash{PBKDF2: sha1.New, PBKDF2SHA256: sha256.New, PBKDF2SHA512: sha512.New}

// rfcPrefix starts the self-describing PBKDF2 form of LoginRadius' API
// example ("Rfc2898DeriveBytes$1000$<b64 salt>$<b64 key>:<suffix>").
const rfcPrefix = "Rfc2898DeriveBytes$"

func (e *Encryption) verifyPBKDF2(whole, stored, salt, password string) (bool, error) {
	var saltBytes, key []byte
	rounds := e.NumberOfIteration
	if rest, ok := strings.CutPrefix(whole, rfcPrefix); ok {
		// The unexplained ":<suffix>" of the example is ignored.
		rest, _, _ = strings.Cut(rest, ":")
		parts := strings.Split(rest, "$")
		if len(parts) != 3 {
			return false, malformed("want Rfc2898DeriveBytes$<rounds>$<salt>$<key>")
		}
		n, err := strconv.Atoi(parts[0])
		if err != nil || n < 1 {
			return false, malformed("Rfc2898DeriveBytes rounds %q", parts[0])
		}
		rounds = n
		if saltBytes, err = base64.StdEncoding.DecodeString(parts[1]); err != nil {
			return false, malformed("Rfc2898DeriveBytes salt: %v", err)
		}
		if key, err = base64.StdEncoding.DecodeString(parts[2]); err != nil {
			return false, malformed("Rfc2898DeriveBytes key: %v", err)
		}
	} else {
		var err error
		if key, err = decode(stored, e.HashEncoding); err != nil {
			return false, malformed("PasswordHash is not %s: %v", e.HashEncoding, err)
		}
		if saltBytes, err = decode(salt, e.SaltEncoding); err != nil {
			return false, malformed("salt is not %s: %v", e.SaltEncoding, err)
		}
	}
	switch {
	case rounds < 1:
		return false, malformed("PBKDF2 needs NumberOfIteration >= 1")
	case rounds > MaxPBKDF2Iterations:
		return false, fmt.Errorf("%w: %d iterations", ErrLimit, rounds)
	case len(key) == 0:
		return false, malformed("empty PBKDF2 key")
	case e.SubKeyLength > 0 && e.SubKeyLength != len(key):
		return false, malformed("SubKeyLength %d, but the stored key has %d bytes", e.SubKeyLength, len(key))
	case e.SaltKeyLength > 0 && e.SaltKeyLength != len(saltBytes):
		return false, malformed("SaltKeyLength %d, but the salt has %d bytes", e.SaltKeyLength, len(saltBytes))
	}
	got, err := pbkdf2.Key(pbkdf2Digests[e.Type], password, saltBytes, rounds, len(key))
	if err != nil {
		return false, malformed("pbkdf2: %v", err)
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// decode turns text in enc (base64, hex or utf8) into bytes. Base64 may be
// padded or not, standard or URL-safe.
func decode(s, enc string) ([]byte, error) {
	switch enc {
	case "hex":
		return hex.DecodeString(s)
	case "base64":
		t := strings.TrimRight(s, "=")
		if strings.ContainsAny(t, "-_") {
			return base64.RawURLEncoding.DecodeString(t)
		}
		return base64.RawStdEncoding.DecodeString(t)
	}
	return []byte(s), nil
}
