package mapfunc

import (
	"testing"
)

// Issue: an unverified email could appear both in Email and in
// UnverifiedEmail. email_list deduplicates and excludes, so a mapping can
// keep each address in one place.
func TestEmailList(t *testing.T) {
	runCases(t, []tc{
		{src: `email_list(["A@x.com", " a@X.com", "b@x.com"])`, want: []any{"a@x.com", "b@x.com"}},
		{src: `email_list(["a@x.com", "b@x.com"], ["B@x.com"])`, want: []any{"a@x.com"}},
		{src: `email_list("A@x.com", "a@x.com")`, want: nil},
		{src: `email_list([nil, "", "c@x.com"])`, want: []any{"c@x.com"}},
		{src: `email_list(nil)`, want: nil},
		{src: `email_list([])`, want: nil},
		{src: `email_list(["not an address"])`, wantErr: "email_list: email: not an email address"},
		{src: `email_list(1)`, wantErr: "email_list: want an address or an array of addresses, got a number"},
		{src: `email_list(["a@x.com"], 2)`, wantErr: "email_list: exclude: want an address"},
	})
}

// Issue: CustomFields values were booleans or objects, and a non-scalar
// data.terms rejected the whole user. custom_fields makes every value a
// string, losslessly.
func TestCustomFields(t *testing.T) {
	runCases(t, []tc{
		{src: `custom_fields({"terms": true, "n": 3, "f": 1.5, "s": "x", "null": nil})`,
			want: map[string]any{"terms": "true", "n": "3", "f": "1.5", "s": "x"}},
		{src: `custom_fields({"terms": {"tos": {"accepted": true}}, "tags": ["a", "b"]})`,
			want: map[string]any{"terms": `{"tos":{"accepted":true}}`, "tags": `["a","b"]`}},
		{src: `custom_fields({"register_referer_url": "u"}, {"register_referer_url": "register_refer_url"})`,
			want: map[string]any{"register_refer_url": "u"}},
		{src: `custom_fields({"a": 1, "b": 2}, {"a": "b"})`, wantErr: "custom_fields: rename_keys"},
		{src: `custom_fields({"x": nil})`, want: nil},
		{src: `custom_fields(nil)`, want: nil},
		{src: `custom_fields("x")`, wantErr: "custom_fields: want an object"},
	})
}

// Issue: only Gigya's pbkdf2 (SHA-1) was converted. The helpers convert
// every hash LoginRadius documents, with options for the unconfirmed
// choices, and the encryption helper stays silent where the hash helper
// reports.
func TestLoginRadiusPasswordHelpers(t *testing.T) {
	native := `{"hash": "89v2METlSkX2LKWSQGHCdE4iUkE=", "hashSettings": {"algorithm": "pbkdf2_sha512", "rounds": 10000, "salt": "YWJjc29tZXRoaW5n=="}}`
	runCases(t, []tc{
		{src: `loginradius_password_hash(` + native + `)`, want: "89v2METlSkX2LKWSQGHCdE4iUkE=:YWJjc29tZXRoaW5n"},
		{src: `loginradius_password_encryption(` + native + `)`, want: map[string]any{
			"Type": "PBKDF2_SHA512", "IsPerPasswordSalt": true, "SaltAttachType": "None", "NumberOfIteration": 10000,
			"SaltKeyLength": 12, "SubKeyLength": 20, "PasswordHashEncodingType": "Base64", "PasswordSaltEncodingType": "Base64"}},
		{src: `loginradius_password_encryption(` + native + `, {"types": {"pbkdf2_sha512": "PBKDF2-HMAC-SHA512"}}).Type`, want: "PBKDF2-HMAC-SHA512"},
		{src: `loginradius_password_hash(` + native + `, {"types": {"pbkdf2_sha512": ""}})`, wantErr: "no PasswordEncryption.Type"},
		{src: `loginradius_password_encryption(` + native + `, {"types": {"pbkdf2_sha512": ""}})`, want: nil},
		{src: `loginradius_password_hash({"hash": "aGFzaA==", "hashSettings": {"algorithm": "custom"}})`, wantErr: "remote"},
		{src: `loginradius_password_encryption({"hash": "aGFzaA==", "hashSettings": {"algorithm": "custom"}})`, want: nil},
		{src: `loginradius_password_encryption({"hash": "aGFzaA==", "hashSettings": {"algorithm": "custom"}}, {"bogus": 1})`, wantErr: "unknown key"},
		{src: `loginradius_password_hash(nil)`, want: nil},
		{src: `loginradius_password_encryption(nil)`, want: nil},
		{src: `loginradius_password_hash("x")`, wantErr: "password is a string"},
	})
}
