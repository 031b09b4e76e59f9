package mapfunc

import (
	"strings"
	"testing"
)

func TestUnverifiablePassword(t *testing.T) {
	pbkdf2 := map[string]any{"hash": "89v2METlSkX2LKWSQGHCdE4iUkE=", "hashSettings": map[string]any{"algorithm": "pbkdf2_sha512", "rounds": int64(10000), "salt": "YWJjc29tZXRoaW5n"}}
	pbkdf2SHA1 := map[string]any{"hash": "89v2METlSkX2LKWSQGHCdE4iUkE=", "hashSettings": map[string]any{"algorithm": "pbkdf2", "rounds": int64(1000), "salt": "YWJjc29tZXRoaW5n"}}
	md5crypt := map[string]any{"hash": "$1$abcdefgh$FErPkDeIHv781e9EexumS.", "hashSettings": map[string]any{"algorithm": "md5_crypt"}}
	custom := map[string]any{"hash": "AAAA", "hashSettings": map[string]any{"algorithm": "custom", "url": "https://legacy.example.com/hash"}}
	tests := []struct {
		name     string
		password any
		target   string
		want     bool
	}{
		{"no password", nil, "auth0", false},
		{"pbkdf2_sha512 into Auth0", pbkdf2, "auth0", false},
		{"md5_crypt into Auth0", md5crypt, "auth0", true},
		{"custom into Auth0", custom, "auth0", true},
		{"not an object", "secret", "auth0", true},
		{"rounds not a number", map[string]any{"hash": "AAAA", "hashSettings": map[string]any{"algorithm": "md5", "rounds": "many"}}, "auth0", true},
		{"pbkdf2_sha512 into LoginRadius", pbkdf2, "loginradius", false},
		{"pbkdf2 (SHA-1) into LoginRadius", pbkdf2SHA1, "loginradius", false},
		{"md5_crypt into LoginRadius", md5crypt, "loginradius", false},
		{"custom into LoginRadius", custom, "loginradius", true},
		{"no password, LoginRadius", nil, "loginradius", false},
	}
	for _, tt := range tests {
		got, err := unverifiablePassword(tt.password, tt.target)
		if err != nil || got != tt.want {
			t.Errorf("%s: %v, %v; want %t", tt.name, got, err, tt.want)
		}
	}
	if _, err := unverifiablePassword(md5crypt, "okta"); err == nil || !strings.Contains(err.Error(), `"okta"`) {
		t.Errorf("unknown target: %v", err)
	}
	if _, err := unverifiablePassword(md5crypt, "loginradius", map[string]any{"no_such_option": 1}); err == nil {
		t.Error("an unknown LoginRadius option was accepted")
	}
	if _, err := unverifiablePassword(md5crypt, "auth0", map[string]any{}); err == nil {
		t.Error("options were accepted for Auth0")
	}
}
