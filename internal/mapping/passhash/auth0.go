package passhash

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Auth0 converts g to the value of the custom_password_hash field of an Auth0
// bulk-import user (docs/apis/auth0.md, "custom_password_hash"), a map ready
// for JSON with exactly the keys Auth0 documents:
//
//	{"algorithm": ..., "hash": {"value": ..., "encoding": ...},
//	 "salt": {"value": ..., "encoding": ..., "position": ...}}
//
// "salt" is present only when the hash input has text around the password.
// The password itself is always UTF-8, Auth0's default, so "password" is
// never set. See the package documentation for the conversion table.
//
// A hash that Auth0 cannot verify, or whose Gigya semantics are not
// documented, gives an error wrapping *[UnsupportedError] (errors.Is
// [ErrUnsupported]), classified permanent with code [CodeUnsupported].
func Auth0(g Gigya) (map[string]any, error) {
	alg := normalizeAlg(g.Algorithm)
	if g.BinaryFormat != "" {
		return nil, unsupported(alg, TargetAuth0, "hashSettings.binaryFormat is set, and its grammar is not documented")
	}
	if digest, ok := pbkdf2Digests[alg]; ok {
		return auth0PBKDF2(g, alg, digest)
	}
	if size, ok := digestSizes[alg]; ok {
		return auth0Digest(g, alg, size)
	}
	if g.isBcrypt(alg) {
		return auth0Bcrypt(g, alg)
	}
	return nil, refuse(alg, TargetAuth0)
}

// auth0PBKDF2 builds the PHC string Auth0 requires for pbkdf2:
// "$pbkdf2-<digest>$i=<rounds>,l=<keylen>$<B64 salt>$<B64 hash>", where B64
// is the PHC spec's encoding: the standard alphabet without "=" padding
// (Auth0: "base64 omitting padding characters"). Salt and hash are decoded
// and re-encoded rather than string-stripped, so that a wrongly padded
// export still yields canonical B64, and l is the real key length (Auth0
// defaults l to 64 when omitted, which would break every Gigya hash).
func auth0PBKDF2(g Gigya, alg, digest string) (map[string]any, error) {
	salt, key, err := pbkdf2Parts(g, alg, TargetAuth0)
	if err != nil {
		return nil, err
	}
	// Appended into one buffer: this runs for every user of a migration.
	b64 := base64.RawStdEncoding
	b := make([]byte, 0, len("$pbkdf2-$i=,l=$$")+len(digest)+40+b64.EncodedLen(len(salt))+b64.EncodedLen(len(key)))
	b = append(append(b, "$pbkdf2-"...), digest...)
	b = strconv.AppendInt(append(b, "$i="...), int64(g.Rounds), 10)
	b = strconv.AppendInt(append(b, ",l="...), int64(len(key)), 10)
	b = b64.AppendEncode(append(b, '$'), salt)
	b = b64.AppendEncode(append(b, '$'), key)
	phc := unsafe.String(unsafe.SliceData(b), len(b)) // b is not changed again
	// Auth0: for pbkdf2 "hash.encoding must be utf8" and a salt object is
	// not allowed (the salt lives inside the PHC string).
	return map[string]any{
		"algorithm": "pbkdf2",
		"hash":      map[string]any{"value": phc, "encoding": "utf8"},
	}, nil
}

// auth0Digest converts a single md5/sha1/sha256/sha512 digest of
// prefix+password+suffix. Auth0 names these algorithms as Gigya does.
func auth0Digest(g Gigya, alg string, size int) (map[string]any, error) {
	switch {
	case g.Hash == "":
		return nil, unsupported(alg, TargetAuth0, "no hash")
	case g.Rounds > 1:
		return nil, unsupported(alg, TargetAuth0, "the digest was iterated %d times; Auth0 verifies a single digest only", g.Rounds)
	case g.Rounds < 0:
		return nil, unsupported(alg, TargetAuth0, "invalid rounds %d", g.Rounds)
	}
	sum, err := decodeBase64(g.Hash)
	if err != nil {
		return nil, unsupported(alg, TargetAuth0, "hash is not base64: %v", err)
	}
	if len(sum) != size {
		return nil, unsupported(alg, TargetAuth0, "hash decodes to %d bytes, a %s digest has %d", len(sum), alg, size)
	}
	a, reason := digestAffix(g)
	if reason != "" {
		return nil, unsupported(alg, TargetAuth0, "%s", reason)
	}
	out := map[string]any{
		"algorithm": alg,
		"hash":      map[string]any{"value": base64.StdEncoding.EncodeToString(sum), "encoding": "base64"},
	}
	addSalt(out, a)
	return out, nil
}

// digestAffix returns the text around the password for a salted digest.
// Without a format template, Gigya documents neither where a salt goes nor
// whether it is used as text or as decoded base64, so a salt without a
// format is refused rather than guessed.
func digestAffix(g Gigya) (affix, string) {
	if g.Format == "" {
		if g.Salt != "" {
			return affix{}, "salt without a format template: Gigya does not document whether it is prepended or appended"
		}
		return affix{}, ""
	}
	return splitFormat(g.Format, g.Salt)
}

// auth0Bcrypt passes a bcrypt MCF string through. Auth0 takes "$2a$",
// "$2b$" and "$2y$", but not "$2$" or "$2x$". hashSettings.rounds is
// ignored: the cost inside the MCF string is what bcrypt uses.
func auth0Bcrypt(g Gigya, alg string) (map[string]any, error) {
	mcf := g.mcf()
	switch {
	case mcf == "":
		return nil, unsupported(alg, TargetAuth0, "no hash")
	case strings.HasPrefix(mcf, "$2x$"), strings.HasPrefix(mcf, "$2$"):
		// $2x$ is crypt_blowfish's marker for hashes made with its
		// sign-extension bug; $2$ is the original, pre-2a variant.
		return nil, unsupported(alg, TargetAuth0, "bcrypt variants $2$ and $2x$ are not supported by Auth0")
	case !bcryptMCF.MatchString(mcf):
		// Gigya also accepts bcrypt as hash + salt + rounds, but does not
		// document how salt and hash are encoded in that form (bcrypt's
		// own base64? standard base64? 23 or 24 hash bytes?), so it cannot
		// be reassembled into an MCF string with confidence.
		return nil, unsupported(alg, TargetAuth0, "the bcrypt hash is not an MCF string ($2a$/$2b$/$2y$, cost 04-31); a bare hash with separate salt and rounds is not documented")
	}
	var a affix
	switch {
	case g.Format != "":
		// The template merges the password with constant text before
		// bcrypt, as for any algorithm; Auth0 allows a salt object with
		// bcrypt and counts it toward bcrypt's 72-byte input limit, which
		// is what any bcrypt implementation does to the merged input.
		var reason string
		if a, reason = splitFormat(g.Format, g.Salt); reason != "" {
			return nil, unsupported(alg, TargetAuth0, "%s", reason)
		}
	case g.Salt != "" && g.Salt != mcf[7:29]:
		// A salt equal to the one inside the MCF string is redundant; any
		// other salt has no documented role.
		return nil, unsupported(alg, TargetAuth0, "bcrypt with a separate salt but no format template: its role is not documented")
	}
	out := map[string]any{
		"algorithm": "bcrypt",
		"hash":      map[string]any{"value": mcf, "encoding": "utf8"},
	}
	addSalt(out, a)
	return out, nil
}

// addSalt adds Auth0's salt object for the text around the password.
// position "prefix" means H(salt + password), "suffix" H(password + salt).
// The text is sent as utf8, Auth0's salt encoding for clear text; text that
// is not valid UTF-8 (impossible for values decoded from JSON) goes as hex,
// because JSON cannot carry it byte-exactly.
func addSalt(out map[string]any, a affix) {
	text, position := a.prefix, "prefix"
	if a.suffix != "" {
		text, position = a.suffix, "suffix"
	}
	if text == "" {
		return
	}
	salt := map[string]any{"value": text, "encoding": "utf8", "position": position}
	if !utf8.ValidString(text) {
		salt["value"], salt["encoding"] = hex.EncodeToString([]byte(text)), "hex"
	}
	out["salt"] = salt
}
