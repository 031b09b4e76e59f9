package passhash_test

import (
	"errors"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

func TestFromAccountNumbers(t *testing.T) {
	for _, rounds := range []any{10000, int64(10000), float64(10000), json.Number("10000"), "10000", json.Number("1e4"), " 10000 "} {
		g, ok, err := passhash.FromAccount(map[string]any{
			"hash":         "89v2METlSkX2LKWSQGHCdE4iUkE=",
			"hashSettings": map[string]any{"algorithm": "PBKDF2_SHA512", "rounds": rounds, "salt": "YWJjc29tZXRoaW5n=="},
		})
		want := passhash.Gigya{Hash: "89v2METlSkX2LKWSQGHCdE4iUkE=", Algorithm: "pbkdf2_sha512", Rounds: 10000, Salt: "YWJjc29tZXRoaW5n=="}
		if err != nil || !ok || g != want {
			t.Errorf("rounds %#v: %+v ok=%v err=%v", rounds, g, ok, err)
		}
	}
}

func TestFromAccountFields(t *testing.T) {
	g, ok, err := passhash.FromAccount(map[string]any{
		"hash":         "aGFzaA==",
		"compoundHash": "",
		"created":      "2024-01-28T17:20:31.188Z",
		"hashSettings": map[string]any{
			"algorithm": " sha512Hexa ", "salt": "s", "format": "$salt$password", "binaryFormat": "$salt:hex$password:utf8",
			"url": "https://example.com", "rounds": nil,
		},
	})
	want := passhash.Gigya{Hash: "aGFzaA==", Algorithm: "sha512hexa", Salt: "s", Format: "$salt$password", BinaryFormat: "$salt:hex$password:utf8"}
	if err != nil || !ok || g != want {
		t.Errorf("got %+v ok=%v err=%v", g, ok, err)
	}
	// compoundHash alone is a password.
	g, ok, err = passhash.FromAccount(map[string]any{"compoundHash": "$2a$10$x"})
	if err != nil || !ok || g.CompoundHash != "$2a$10$x" || g.Hash != "" {
		t.Errorf("compoundHash only: %+v ok=%v err=%v", g, ok, err)
	}
}

func TestFromAccountNoPassword(t *testing.T) {
	for _, pw := range []any{
		nil,
		map[string]any{},
		map[string]any{"created": "2024-01-28T17:20:31.188Z"}, // returned even without include=password
		map[string]any{"hash": "", "hashSettings": map[string]any{"algorithm": "md5"}},
		map[string]any{"hash": nil},
	} {
		g, ok, err := passhash.FromAccount(pw)
		if ok || err != nil || g != (passhash.Gigya{}) {
			t.Errorf("%#v: %+v ok=%v err=%v", pw, g, ok, err)
		}
	}
}

func TestFromAccountMalformed(t *testing.T) {
	base := func(settings map[string]any) map[string]any {
		return map[string]any{"hash": "aGFzaA==", "hashSettings": settings}
	}
	for name, pw := range map[string]any{
		"password string":      "secret",
		"password array":       []any{"x"},
		"hash number":          map[string]any{"hash": 5.0},
		"compoundHash bool":    map[string]any{"compoundHash": true},
		"hashSettings string":  map[string]any{"hash": "aGFzaA==", "hashSettings": "pbkdf2"},
		"algorithm number":     base(map[string]any{"algorithm": 1.0}),
		"rounds fraction":      base(map[string]any{"rounds": 1.5}),
		"rounds string":        base(map[string]any{"rounds": "ten"}),
		"rounds number string": base(map[string]any{"rounds": json.Number("1.5")}),
		"rounds bool":          base(map[string]any{"rounds": true}),
		"rounds huge":          base(map[string]any{"rounds": 1e300}),
		"salt number":          base(map[string]any{"salt": 12.0}),
		"format object":        base(map[string]any{"format": map[string]any{}}),
		"binaryFormat array":   base(map[string]any{"binaryFormat": []any{}}),
	} {
		_, ok, err := passhash.FromAccount(pw)
		if ok || !errors.Is(err, passhash.ErrMalformed) {
			t.Errorf("%s: ok=%v err=%v, want ErrMalformed", name, ok, err)
			continue
		}
		if kind, code := fault.Classify(err); kind != fault.KindPermanent || code != passhash.CodeMalformed {
			t.Errorf("%s: classified %v %q", name, kind, code)
		}
	}
}
