package gigyasim

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strings"

	"github.com/segmentio/encoding/json"
	"golang.org/x/crypto/bcrypt"
)

// passwordObj is the account's password object (docs/apis/gigya.md, "Password
// object").
type passwordObj struct {
	Hash         string `json:"hash"`
	HashSettings struct {
		Algorithm string      `json:"algorithm"`
		Rounds    json.Number `json:"rounds"`
		Salt      string      `json:"salt"`
		Format    string      `json:"format"`
	} `json:"hashSettings"`
}

// verdict is the outcome of a password check.
type verdict int

const (
	pwMismatch verdict = iota
	pwMatch
	// pwUnsupported: the hash cannot be checked here (custom,
	// algorithms or layouts the simulator does not know); login treats it
	// as a wrong password.
	pwUnsupported
	// pwNone: the account has no password.
	pwNone
)

// verifyPassword checks plain against the account's password object. It is
// written independently of internal/gigya/sample/password.go from the layouts
// docs/apis/gigya.md describes ("Hash algorithms and format templates"):
//
//   - pbkdf2 (HMAC-SHA1), pbkdf2_sha256, pbkdf2_sha512: salt is base64,
//     rounds the iteration count, the key length is the length of the
//     decoded hash.
//   - md5, sha1, sha256, sha512: one digest (rounds 0 or 1) over the
//     UTF-8 password, or over the format template with $password and
//     $salt replaced (the salt in clear text). A salt without a format is
//     refused: how Gigya combines them is not documented.
//   - bcrypt: the MCF string in hash.
//   - md5_crypt: the "$1$<salt>$<hash>" string in hash (see md5crypt.go).
//
// Everything else is pwUnsupported.
func verifyPassword(raw []byte, plain string) verdict {
	var acct struct {
		Password *passwordObj `json:"password"`
	}
	if err := json.Unmarshal(raw, &acct); err != nil || acct.Password == nil || acct.Password.Hash == "" {
		return pwNone
	}
	pw := acct.Password
	hs := pw.HashSettings
	rounds := 0
	if hs.Rounds != "" {
		n, err := hs.Rounds.Int64()
		if err != nil || n < 0 || n > 1<<24 {
			return pwUnsupported
		}
		rounds = int(n)
	}
	alg := strings.ToLower(strings.TrimSpace(hs.Algorithm))
	switch alg {
	case "pbkdf2", "pbkdf2_sha1", "pbkdf2_sha256", "pbkdf2_sha512":
		var h func() hash.Hash
		switch alg {
		case "pbkdf2_sha256":
			h = sha256.New
		case "pbkdf2_sha512":
			h = sha512.New
		default:
			h = sha1.New
		}
		want, err1 := decodeB64(pw.Hash)
		salt, err2 := decodeB64(hs.Salt)
		if err1 != nil || err2 != nil || rounds < 1 || len(want) == 0 || hs.Format != "" {
			return pwUnsupported
		}
		got, err := pbkdf2.Key(h, plain, salt, rounds, len(want))
		if err != nil {
			return pwUnsupported
		}
		return equalVerdict(got, want)
	case "md5", "sha1", "sha256", "sha512":
		if rounds > 1 {
			return pwUnsupported
		}
		input := plain
		switch {
		case hs.Format != "":
			if !strings.Contains(hs.Format, "$password") {
				return pwUnsupported
			}
			input = fillFormat(hs.Format, plain, hs.Salt)
		case hs.Salt != "":
			return pwUnsupported
		}
		want, err := decodeB64(pw.Hash)
		if err != nil {
			return pwUnsupported
		}
		var h hash.Hash
		switch alg {
		case "md5":
			h = md5.New()
		case "sha1":
			h = sha1.New()
		case "sha256":
			h = sha256.New()
		default:
			h = sha512.New()
		}
		h.Write([]byte(input))
		return equalVerdict(h.Sum(nil), want)
	case "md5_crypt":
		return verifyMD5Crypt(pw.Hash, plain)
	case "bcrypt":
		err := bcrypt.CompareHashAndPassword([]byte(pw.Hash), []byte(plain))
		switch err {
		case nil:
			return pwMatch
		case bcrypt.ErrMismatchedHashAndPassword:
			return pwMismatch
		default:
			return pwUnsupported
		}
	}
	return pwUnsupported
}

func equalVerdict(got, want []byte) verdict {
	if subtle.ConstantTimeCompare(got, want) == 1 {
		return pwMatch
	}
	return pwMismatch
}

func decodeB64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// fillFormat expands a pwHashFormat template left to right, so that
// "$salt" inside the password is not expanded again.
func fillFormat(format, password, salt string) string {
	var sb strings.Builder
	for rest := format; rest != ""; {
		switch {
		case strings.HasPrefix(rest, "$password"):
			sb.WriteString(password)
			rest = rest[len("$password"):]
		case strings.HasPrefix(rest, "$salt"):
			sb.WriteString(salt)
			rest = rest[len("$salt"):]
		default:
			sb.WriteByte(rest[0])
			rest = rest[1:]
		}
	}
	return sb.String()
}
