package passhash_test

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
)

// passwords are checked with every supported form: ASCII, and non-ASCII
// with multi-byte and astral characters (Gigya hashes UTF-8).
var passwords = []string{"correct horse 42!", "pässwörd-日本-🔑"}

// TestAuth0PublishedGigyaExample reproduces the Auth0 community article's
// conversion of a real Gigya export (docs/apis/auth0.md, "Gigya hashes in
// Auth0") byte for byte, including its invalid salt padding "==".
func TestAuth0PublishedGigyaExample(t *testing.T) {
	g, ok, err := passhash.FromAccount(map[string]any{
		"created":      "2024-01-28T17:20:31.188Z",
		"hashSettings": map[string]any{"salt": "YWJjc29tZXRoaW5n==", "rounds": float64(10000), "algorithm": "pbkdf2_sha512"},
		"hash":         "89v2METlSkX2LKWSQGHCdE4iUkE=",
	})
	if err != nil || !ok {
		t.Fatalf("FromAccount: ok=%v err=%v", ok, err)
	}
	got, err := passhash.Auth0(g)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"algorithm": "pbkdf2",
		"hash": map[string]any{
			"value":    "$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE",
			"encoding": "utf8",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Auth0 = %#v\nwant %#v", got, want)
	}
}

func TestAuth0PBKDF2(t *testing.T) {
	t.Parallel()
	salts := [][]byte{
		[]byte("0123456789abcdef"),     // 16 bytes, Gigya-like
		[]byte("abcsomething"),         // 12 bytes, as in the published export
		{0xfb, 0xff, 0xbf, 0x00, 0x3e}, // bytes that need "+" and "/" in base64
	}
	for _, alg := range []string{"pbkdf2", "pbkdf2_sha256", "pbkdf2_sha512"} {
		for _, keyLen := range []int{16, 20, 32, 64} {
			for si, salt := range salts {
				for _, pw := range passwords {
					g := gigyaPBKDF2(t, alg, pw, salt, 37, keyLen)
					js := checkAuth0(t, g, pw, "P"+pw)
					obj, _ := passhash.Auth0(g)
					phc := strings.Split(obj["hash"].(map[string]any)["value"].(string), "$")
					if len(phc) != 5 || strings.ContainsAny(phc[3]+phc[4], "=-_") {
						t.Errorf("not a PHC string with unpadded standard B64: %s", js)
					}
					if si == 0 && keyLen == 20 {
						// The same hash exported unpadded, over-padded, or
						// URL-safe must convert to the same object.
						for _, variant := range exportVariants(g) {
							if js2 := checkAuth0(t, variant, pw, "x"); string(js2) != string(js) {
								t.Errorf("variant %+v converts to %s, want %s", variant, js2, js)
							}
						}
					}
				}
			}
		}
	}
}

// exportVariants re-encodes the base64 fields of g in the other ways a
// salt or hash could plausibly appear in an export.
func exportVariants(g passhash.Gigya) []passhash.Gigya {
	re := func(s string, f func([]byte) string) string {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			panic(err)
		}
		return f(b)
	}
	raw := func(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }
	over := func(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) + "==" }
	url := func(b []byte) string { return base64.URLEncoding.EncodeToString(b) }
	var out []passhash.Gigya
	for _, f := range []func([]byte) string{raw, over, url} {
		v := g
		v.Salt, v.Hash = re(g.Salt, f), re(g.Hash, f)
		out = append(out, v)
	}
	return out
}

func TestAuth0Digests(t *testing.T) {
	type form struct{ format, salt string }
	forms := []form{
		{"", ""},                          // unsalted
		{"$password", ""},                 // a template that adds nothing
		{"$salt$password", "Xy7salt9"},    // salt prefix
		{"$password$salt", "Xy7salt9"},    // salt suffix
		{"wikipedia$salt$password", "s1"}, // constant folded into a prefix salt
		{"$password$saltXYZ", "s2"},       // constant folded into a suffix salt
		{"$passwordXYZ", ""},              // constant suffix, no salt
		{"X$password", ""},                // constant prefix, no salt
		{"$$password", ""},                // a literal "$"
		{"ä€$salt$password", "sält-日本"},   // non-ASCII constant and salt
		{"$salt$password$salt", ""},       // placeholders on both sides, but empty
		{"$salt$password", ""},            // empty salt
	}
	for _, alg := range []string{"md5", "sha1", "sha256", "sha512"} {
		for _, f := range forms {
			for _, rounds := range []int{0, 1} {
				for _, pw := range passwords {
					g := gigyaDigest(alg, pw, f.salt, f.format, rounds)
					checkAuth0(t, g, pw, "x"+pw)
					// Upper-case algorithm names (as a caller building
					// Gigya by hand might pass) convert the same way.
					g.Algorithm = strings.ToUpper(alg)
					checkAuth0(t, g, pw, pw+"x")
				}
			}
		}
	}
}

// TestAuth0SaltObject pins the exact shape of the salt object, which is
// what Auth0 reads: position and clear-text utf8 encoding.
func TestAuth0SaltObject(t *testing.T) {
	cases := map[string]map[string]any{
		"wikipedia$salt$password": {"value": "wikipediaabc", "encoding": "utf8", "position": "prefix"},
		"$password$saltXYZ":       {"value": "abcXYZ", "encoding": "utf8", "position": "suffix"},
	}
	for format, want := range cases {
		obj, err := passhash.Auth0(gigyaDigest("sha256", "pw", "abc", format, 1))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(obj["salt"], want) || len(obj) != 3 {
			t.Errorf("%s: %#v", format, obj)
		}
	}
	obj, err := passhash.Auth0(gigyaDigest("md5", "pw", "", "", 0))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"algorithm": "md5", "hash": map[string]any{"value": obj["hash"].(map[string]any)["value"], "encoding": "base64"}}
	if !reflect.DeepEqual(obj, want) {
		t.Errorf("unsalted md5: %#v", obj)
	}
	// Salt text that is not UTF-8 (only possible when Gigya is built by
	// hand) cannot travel as a JSON string; it goes as hex.
	g := gigyaDigest("sha1", "pw", "\xff\xfe", "$salt$password", 1)
	checkAuth0(t, g, "pw", "pW")
	obj, _ = passhash.Auth0(g)
	if s := obj["salt"].(map[string]any); s["encoding"] != "hex" || s["value"] != "fffe" {
		t.Errorf("non-UTF-8 salt: %#v", s)
	}
}

func TestAuth0Bcrypt(t *testing.T) {
	t.Parallel()
	for i, minor := range []string{"a", "b", "y"} {
		pw := passwords[i%len(passwords)]
		checkAuth0(t, gigyaBcrypt(t, pw, "", "", minor), pw, pw+"!")
	}
	pw := passwords[1]
	checkAuth0(t, gigyaBcrypt(t, pw, "pepper", "$salt$password", "a"), pw, "x")
	checkAuth0(t, gigyaBcrypt(t, pw, "pepper", "$password$salt", "b"), pw, "x")
	checkAuth0(t, gigyaBcrypt(t, pw, "", "site:$password", "b"), pw, "x")

	// No algorithm, but an unmistakable bcrypt string: still bcrypt.
	g := gigyaBcrypt(t, pw, "", "", "b")
	g.Algorithm = ""
	checkAuth0(t, g, pw, "x")
	// Imported through compoundHashedPassword: the MCF is in compoundHash.
	g = gigyaBcrypt(t, pw, "", "", "a")
	g.CompoundHash, g.Hash = g.Hash, ""
	checkAuth0(t, g, pw, "x")
	// A salt that repeats the one inside the MCF string is redundant.
	g = gigyaBcrypt(t, pw, "", "", "a")
	g.Salt = g.Hash[7:29]
	checkAuth0(t, g, pw, "x")
	// hashSettings.rounds does not matter: the MCF carries the cost.
	g.Rounds = 12345
	checkAuth0(t, g, pw, "x")
}

// TestAuth0Unsupported lists every refusal; each must carry the code, the
// algorithm and a reason, and classify as permanent.
func TestAuth0Unsupported(t *testing.T) {
	pb := gigyaPBKDF2(t, "pbkdf2_sha512", "pw", []byte("0123456789abcdef"), 10, 20)
	md := gigyaDigest("md5", "pw", "", "", 1)
	bc := gigyaBcrypt(t, "pw", "", "", "a")
	with := func(g passhash.Gigya, f func(*passhash.Gigya)) passhash.Gigya { f(&g); return g }
	cases := []struct {
		name   string
		g      passhash.Gigya
		alg    string
		reason string
	}{
		{"md5_crypt", passhash.Gigya{Hash: "$1$abcdefgh$0123456789012345678901", Algorithm: "md5_crypt"}, "md5_crypt", "md5-crypt"},
		{"custom", passhash.Gigya{Hash: "aGFzaA==", Algorithm: "custom", Salt: "c2FsdA=="}, "custom", "remote hash service"},
		{"sha1_hashbytes", passhash.Gigya{Hash: md.Hash, Algorithm: "sha1_hashbytes"}, "sha1_hashbytes", "does not document"},
		{"sha512Hexa", passhash.Gigya{Hash: md.Hash, Algorithm: "sha512Hexa"}, "sha512hexa", "does not document"},
		{"md5_double_salted", passhash.Gigya{Hash: md.Hash, Algorithm: "md5_double_salted", Salt: "s"}, "md5_double_salted", "does not document"},
		{"drupal", passhash.Gigya{Hash: "$S$5T/ViD4qlx6qHTQAci8eEbCuP/MVsoO8OSfU.xJsykqT5H6BXowl", Algorithm: "drupal"}, "drupal", "Drupal"},
		{"symphony2", passhash.Gigya{Hash: md.Hash, Algorithm: "symphony2", Salt: "s"}, "symphony2", "iterated"},
		{"sap_abap", passhash.Gigya{Hash: md.Hash, Algorithm: "sap_abap"}, "sap_abap", "ABAP"},
		{"unknown", passhash.Gigya{Hash: md.Hash, Algorithm: "whirlpool"}, "whirlpool", "unknown algorithm"},
		{"no algorithm", passhash.Gigya{Hash: md.Hash}, "", "no hashSettings.algorithm"},
		{"binaryFormat", with(md, func(g *passhash.Gigya) { g.BinaryFormat = "$salt:hex$password:utf8" }), "md5", "binaryFormat"},
		// PBKDF2
		{"pbkdf2 no hash", with(pb, func(g *passhash.Gigya) { g.Hash = "" }), "pbkdf2_sha512", "no hash"},
		{"pbkdf2 no salt", with(pb, func(g *passhash.Gigya) { g.Salt = "" }), "pbkdf2_sha512", "without a salt"},
		{"pbkdf2 zero rounds", with(pb, func(g *passhash.Gigya) { g.Rounds = 0 }), "pbkdf2_sha512", "rounds >= 1"},
		{"pbkdf2 format", with(pb, func(g *passhash.Gigya) { g.Format = "$salt$password" }), "pbkdf2_sha512", "format template"},
		{"pbkdf2 salt not base64", with(pb, func(g *passhash.Gigya) { g.Salt = "clear text salt!" }), "pbkdf2_sha512", "salt is not base64"},
		{"pbkdf2 salt bad padding", with(pb, func(g *passhash.Gigya) { g.Salt += "=" }), "pbkdf2_sha512", "salt is not base64"},
		{"pbkdf2 hash not base64", with(pb, func(g *passhash.Gigya) { g.Hash = "89v2METl*kX2LKWSQGHCdE4iUkE=" }), "pbkdf2_sha512", "hash is not base64"},
		// Plain digests
		{"iterated digest", with(md, func(g *passhash.Gigya) { g.Rounds = 1000 }), "md5", "iterated 1000 times"},
		{"negative rounds", with(md, func(g *passhash.Gigya) { g.Rounds = -1 }), "md5", "invalid rounds"},
		{"digest no hash", with(md, func(g *passhash.Gigya) { g.Hash = "" }), "md5", "no hash"},
		{"digest hex hash", with(md, func(g *passhash.Gigya) { g.Hash = "5f4dcc3b5aa765d61d8327deb882cf99" }), "md5", "decodes to 24 bytes"},
		{"digest not base64", with(md, func(g *passhash.Gigya) { g.Hash = "not base64!" }), "md5", "hash is not base64"},
		{"salt without format", with(md, func(g *passhash.Gigya) { g.Salt = "c2FsdA==" }), "md5", "salt without a format"},
		{"salt both sides", gigyaDigest("sha256", "pw", "s", "$salt$password$salt", 1), "sha256", "both before and after"},
		{"constants both sides", gigyaDigest("sha256", "pw", "", "X$passwordY", 1), "sha256", "both before and after"},
		{"password twice", gigyaDigest("sha1", "pw", "", "$password$password", 1), "sha1", "2 times"},
		{"no $password", gigyaDigest("sha1", "pw", "s", "$salt", 1), "sha1", "no $password"},
		{"unused salt", with(gigyaDigest("sha1", "pw", "", "$password", 1), func(g *passhash.Gigya) { g.Salt = "s" }), "sha1", "does not reference $salt"},
		{"placeholder in salt", gigyaDigest("sha1", "pw", "a$salt", "$salt$password", 1), "sha1", "substitution order"},
		// bcrypt
		{"bcrypt 2x", with(bc, func(g *passhash.Gigya) { g.Hash = "$2x$" + g.Hash[4:] }), "bcrypt", "$2x$"},
		{"bcrypt 2", with(bc, func(g *passhash.Gigya) { g.Hash = "$2$" + g.Hash[4:] }), "bcrypt", "$2$"},
		{"bcrypt bare hash", with(bc, func(g *passhash.Gigya) { g.Hash, g.Salt = g.Hash[29:], g.Hash[7:29] }), "bcrypt", "not an MCF string"},
		{"bcrypt cost 03", with(bc, func(g *passhash.Gigya) { g.Hash = g.Hash[:4] + "03" + g.Hash[6:] }), "bcrypt", "not an MCF string"},
		{"bcrypt no hash", passhash.Gigya{Algorithm: "bcrypt"}, "bcrypt", "no hash"},
		{"bcrypt stray salt", with(bc, func(g *passhash.Gigya) { g.Salt = "pepper" }), "bcrypt", "separate salt"},
		{"bcrypt bad format", with(bc, func(g *passhash.Gigya) { g.Format = "$password$password" }), "bcrypt", "2 times"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj, err := passhash.Auth0(c.g)
			if obj != nil {
				t.Errorf("got an object with the error: %v", obj)
			}
			ue := checkUnsupported(t, err, c.alg, passhash.TargetAuth0)
			if !strings.Contains(ue.Reason, c.reason) {
				t.Errorf("reason %q does not mention %q", ue.Reason, c.reason)
			}
		})
	}
}
