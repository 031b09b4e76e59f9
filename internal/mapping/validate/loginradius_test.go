package validate_test

import (
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
)

// lrUser is a LoginRadius migration profile in the documented shape, with
// the PasswordEncryption the loginradius-bulk sink lifts into the request.
const lrUser = `{"Uid":"9b1f0c7e5a2d4c3e8f6a1b2c3d4e5f60","FirstName":"Jane","LastName":"Doe","UserName":"jane.doe@example.com",` +
	`"Email":[{"Type":"Primary","Value":"jane.doe@example.com"},{"Type":"Secondary","Value":"jd@example.org"}],` +
	`"UnverifiedEmail":[{"Type":"Secondary","Value":"new@example.org"}],"EmailVerified":true,"IsActive":true,` +
	`"Country":{"Code":"DE","Name":"Germany"},"PhoneId":"+4915112345678",` +
	`"Identities":[{"Provider":"facebook","ID":"1234567890","Email":[{"Type":"Primary","Value":"jane@example.net"}]}],` +
	`"PasswordHash":"a2V5:c2FsdA==","PasswordEncryption":{"Type":"PBKDF2_SHA512","IsPerPasswordSalt":true,"SaltAttachType":"None","NumberOfIteration":10000},` +
	`"CustomFields":{"loyaltyId":"L-000123","any.key":"kept"}}`

func TestLoginRadius(t *testing.T) {
	tests := []struct {
		name string
		mod  func(t *testing.T, u map[string]any)
		want []string
		warn []string
	}{
		{name: "documented shape"},
		{name: "account-create fields", mod: func(t *testing.T, u map[string]any) {
			delete(u, "PasswordHash")
			delete(u, "PasswordEncryption")
			u["Password"] = "s3cret"
			u["Username"] = "jane"
			u["PhoneID"] = "+15551234567"
			u["PhoneIDVerified"] = false
		}},
		// Issue: the password was a nested {PasswordHash, PasswordEncryption}
		// object, where Account Create takes a plaintext Password.
		{name: "Password as an object", mod: func(t *testing.T, u map[string]any) {
			delete(u, "PasswordHash")
			delete(u, "PasswordEncryption")
			u["Password"] = jv(t, `{"PasswordHash":"Rfc2898DeriveBytes$1000$c2FsdA==$aGFzaA==","PasswordEncryption":{"Type":"PBKDF2"}}`)
		}, want: []string{"Password: type"}},
		// Issue: the validator checked neither the password shape ...
		{name: "PasswordHash without its encryption", mod: func(t *testing.T, u map[string]any) { delete(u, "PasswordEncryption") },
			want: []string{"PasswordHash: password_encryption"}},
		{name: "PasswordEncryption without a hash", mod: func(t *testing.T, u map[string]any) { delete(u, "PasswordHash") },
			want: []string{"PasswordEncryption: password_encryption"}},
		{name: "per-user salt missing", mod: func(t *testing.T, u map[string]any) { u["PasswordHash"] = "a2V5" },
			want: []string{"PasswordHash: password_encryption"}},
		{name: "PasswordEncryption without Type", mod: func(t *testing.T, u map[string]any) { u["PasswordEncryption"] = jv(t, `{"IsPerPasswordSalt":"yes"}`) },
			want: []string{"PasswordEncryption.IsPerPasswordSalt: type", "PasswordEncryption.Type: required"}},
		{name: "Rfc2898 form carries its salt", mod: func(t *testing.T, u map[string]any) { u["PasswordHash"] = "Rfc2898DeriveBytes$1000$c2FsdA==$aGFzaA==" }},
		// ... nor CustomFields value types.
		{name: "CustomFields not strings", mod: func(t *testing.T, u map[string]any) {
			u["CustomFields"] = jv(t, `{"terms":true,"n":3,"o":{"a":1},"s":"x"}`)
		}, want: []string{"CustomFields.n: custom_field_type", "CustomFields.o: custom_field_type", "CustomFields.terms: custom_field_type"}},
		// ... and it checked Username while the mapping emits UserName.
		{name: "UserName checked", mod: func(t *testing.T, u map[string]any) { u["UserName"] = int64(1) },
			want: []string{"UserName: type"}},
		// Issue: every login email was typed Primary, and an unverified one
		// could be in Email and UnverifiedEmail.
		{name: "two Primary emails", mod: func(t *testing.T, u map[string]any) {
			u["Email"] = jv(t, `[{"Type":"Primary","Value":"a@example.com"},{"Type":"Primary","Value":"b@example.com"}]`)
		}, want: []string{"Email[1].Type: email_type"}},
		{name: "address in Email and UnverifiedEmail", mod: func(t *testing.T, u map[string]any) {
			u["UnverifiedEmail"] = jv(t, `[{"Type":"Secondary","Value":"JD@example.org"}]`)
		}, want: []string{"UnverifiedEmail[0].Value: email_twice"}},
		// Issue: a phone-only user was rejected. A login is an Email, a
		// PhoneId or a social identity; a profile with none is refused.
		{name: "phone-only user", mod: func(t *testing.T, u map[string]any) {
			delete(u, "Email")
			delete(u, "Identities")
		}},
		{name: "social-only user", mod: func(t *testing.T, u map[string]any) {
			delete(u, "Email")
			delete(u, "PhoneId")
		}},
		{name: "no login at all", mod: func(t *testing.T, u map[string]any) {
			delete(u, "Email")
			delete(u, "PhoneId")
			delete(u, "Identities")
		}, want: []string{": required"}},
		{name: "identity without its provider id", mod: func(t *testing.T, u map[string]any) {
			u["Identities"] = jv(t, `[{"Provider":"facebook"}]`)
		}, want: []string{"Identities[0].ID: required"}},
		{name: "Uid LoginRadius refuses", mod: func(t *testing.T, u map[string]any) { u["Uid"] = "_guid_abc=" },
			want: []string{"Uid: uid_format"}},
		{name: "PhoneId not E.164 is a warning", mod: func(t *testing.T, u map[string]any) { u["PhoneId"] = "0151 1234" },
			warn: []string{"PhoneId: e164"}},
		{name: "Country members", mod: func(t *testing.T, u map[string]any) { u["Country"] = jv(t, `{"Code":1}`) },
			want: []string{"Country.Code: type"}},
		{name: "unknown PascalCase fields are not checked (unconfirmed)", mod: func(t *testing.T, u map[string]any) { u["Religion"] = "None"; u["Hireable"] = false }},
		{name: "Email as a string", mod: func(t *testing.T, u map[string]any) { u["Email"] = "jane.doe@example.com" },
			want: []string{"Email: type"}},
		{name: "Email item not an object", mod: func(t *testing.T, u map[string]any) { u["Email"] = []any{"jane.doe@example.com"} },
			want: []string{"Email[0]: type"}},
		{name: "Email value invalid", mod: func(t *testing.T, u map[string]any) {
			u["Email"] = jv(t, `[{"Type":"Primary","Value":"jane.doe@"}]`)
		}, want: []string{"Email[0].Value: format_email"}},
		{name: "Email value and type missing", mod: func(t *testing.T, u map[string]any) {
			u["Email"] = jv(t, `[{"Type":"Primary","Value":"jane.doe@example.com"},{}]`)
		}, want: []string{"Email[1].Type: required", "Email[1].Value: required"}},
		{name: "Email type not a string", mod: func(t *testing.T, u map[string]any) {
			u["Email"] = jv(t, `[{"Type":1,"Value":"jane.doe@example.com"}]`)
		}, want: []string{"Email[0].Type: type"}},
		{name: "string fields with other types", mod: func(t *testing.T, u map[string]any) {
			u["FirstName"] = int64(1)
			u["Uid"] = int64(5)
			u["PasswordHash"] = map[string]any{}
		}, want: []string{"FirstName: type", "PasswordHash: type", "Uid: type"}},
		{name: "booleans as strings", mod: func(t *testing.T, u map[string]any) {
			u["EmailVerified"] = "true"
			u["PhoneIDVerified"] = "false"
			u["IsActive"] = "false"
		}, want: []string{"EmailVerified: type", "IsActive: type", "PhoneIDVerified: type"}},
		{name: "Auth0 names are warned about", mod: func(t *testing.T, u map[string]any) { u["email"] = "jane.doe@example.com"; u["given_name"] = "Jane" },
			warn: []string{"email: pascal_case", "given_name: pascal_case"}},
		{name: "invalid UTF-8", mod: func(t *testing.T, u map[string]any) { u["LastName"] = "D\xc3e" },
			want: []string{"LastName: invalid_utf8"}},
		{name: "bigger than a request", mod: func(t *testing.T, u map[string]any) {
			u["CustomFields"] = map[string]any{"blob": strings.Repeat("x", 11<<20)}
		}, want: []string{": max_size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := decode(t, lrUser)
			if tt.mod != nil {
				tt.mod(t, u)
			}
			res := validate.NewLoginRadius(validate.Options{SanitizeMetadataKeys: true, StripAuth0Prefix: true}).Validate(u)
			checkFindings(t, "violations", res.Violations, tt.want)
			checkFindings(t, "warnings", res.Warnings, tt.warn)
			checkFindings(t, "repaired", res.Repaired, nil)
		})
	}
}
