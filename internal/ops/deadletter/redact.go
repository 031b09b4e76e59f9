package deadletter

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
)

// Redacted replaces every secret value that [Redact] hides.
const Redacted = "[redacted]"

// Redact returns payload with the values of secret keys replaced by
// "[redacted]", and how many values it replaced. It works on broken JSON too
// (a truncated or malformed export line), scanning tokens leniently, so a
// dead letter from a bad input file does not leak the hashes it carries.
//
// The rules, applied at any depth:
//
//   - A key is secret when its name, lower-cased and without '_', '-' and
//     '.', contains "password", "passwd", "hash", "salt", "secret" or
//     "token", or is one of: pwd, pass, passcode, pin, otp, totp, mfa,
//     privatekey, credential, credentials, authorization, cookie, signature,
//     uidsignature.
//   - The string and number values of a secret key are replaced, as are the
//     elements of an array under it.
//   - Inside an object or array held by a secret key, every string and number
//     is replaced too, except under the descriptive keys algorithm, encoding,
//     rounds, iterations, cost, format, binaryformat, position, type,
//     keysize, keylength, keylen, digest, version and created, so that
//     password.hashSettings.algorithm stays readable while
//     password.hashSettings.salt and custom_password_hash.hash.value do not.
//   - true, false and null are kept: they carry no secret, and a redacted
//     flag would hide why a record failed.
//
// Values are replaced in place; everything else keeps its bytes and order.
func Redact(payload []byte) ([]byte, int) {
	var r redactor
	r.out.Grow(len(payload))
	r.run(payload)
	return r.out.Bytes(), r.n
}

// frame is one open object or array.
type frame struct {
	object    bool
	expectKey bool   // object: the next string is a key
	key       string // object: the current key; array: the key holding the array
	under     bool   // a secret key holds this container, directly or higher up
}

type redactor struct {
	out   bytes.Buffer
	stack []frame
	n     int
}

func (r *redactor) run(in []byte) {
	for i := 0; i < len(in); {
		c := in[i]
		switch c {
		case ' ', '\t', '\r', '\n', ':':
			if c == ':' && r.inObject() {
				r.top().expectKey = false
			}
			r.out.WriteByte(c)
			i++
		case ',':
			if r.inObject() {
				r.top().expectKey = true
			}
			r.out.WriteByte(c)
			i++
		case '{', '[':
			key, under := r.context()
			r.stack = append(r.stack, frame{object: c == '{', expectKey: c == '{', key: key, under: under || secretKey(key)})
			r.out.WriteByte(c)
			i++
		case '}', ']':
			if len(r.stack) > 0 {
				r.stack = r.stack[:len(r.stack)-1]
			}
			r.out.WriteByte(c)
			i++
		case '"':
			end := stringEnd(in, i)
			lit := in[i:end]
			if r.inObject() && r.top().expectKey {
				r.top().key = decodeKey(lit)
				r.out.Write(lit)
			} else {
				r.value(lit, true)
			}
			i = end
		default:
			end := i + 1
			for end < len(in) && !delimiter(in[end]) {
				end++
			}
			r.value(in[i:end], false)
			i = end
		}
	}
}

// value writes one scalar, replaced when its context is secret.
func (r *redactor) value(lit []byte, quoted bool) {
	if !quoted {
		switch string(lit) {
		case "true", "false", "null":
			r.out.Write(lit)
			return
		}
	}
	key, under := r.context()
	if secretKey(key) || (under && !descriptiveKey(key)) {
		r.out.WriteString(`"` + Redacted + `"`)
		r.n++
		return
	}
	r.out.Write(lit)
}

// context returns the key a value at the current position belongs to, and
// whether a secret key holds its container.
func (r *redactor) context() (key string, under bool) {
	if len(r.stack) == 0 {
		return "", false
	}
	f := r.top()
	return f.key, f.under
}

func (r *redactor) inObject() bool { return len(r.stack) > 0 && r.top().object }

func (r *redactor) top() *frame { return &r.stack[len(r.stack)-1] }

// stringEnd returns the index after the string literal starting at in[i]
// (a quote), or len(in) when it is not terminated.
func stringEnd(in []byte, i int) int {
	for j := i + 1; j < len(in); j++ {
		switch in[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(in)
}

func delimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ':', '{', '}', '[', ']', '"':
		return true
	}
	return false
}

func decodeKey(lit []byte) string {
	var s string
	if json.Unmarshal(lit, &s) == nil {
		return s
	}
	return strings.Trim(string(lit), `"`) // unterminated or malformed: best effort
}

// normalizeKey folds the spellings of one name together (passwordHash,
// password_hash, password-hash).
func normalizeKey(k string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.':
			return -1
		}
		return unicode.ToLower(r)
	}, k)
}

func secretKey(k string) bool {
	if k == "" {
		return false
	}
	n := normalizeKey(k)
	for _, s := range [...]string{"password", "passwd", "hash", "salt", "secret", "token"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	switch n {
	case "pwd", "pass", "passcode", "pin", "otp", "totp", "mfa", "privatekey", "credential", "credentials",
		"authorization", "cookie", "signature", "uidsignature":
		return true
	}
	return false
}

// descriptiveKey names how a secret is encoded, not the secret: kept under a
// secret key because it is what one needs to debug a hash conversion.
func descriptiveKey(k string) bool {
	switch normalizeKey(k) {
	case "algorithm", "encoding", "rounds", "iterations", "cost", "format", "binaryformat", "position", "type",
		"keysize", "keylength", "keylen", "digest", "version", "created":
		return true
	}
	return false
}
