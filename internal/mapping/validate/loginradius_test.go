package validate_test

import (
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
)

// lrUser is a LoginRadius migration profile in the documented shape.
const lrUser = `{"FirstName":"Jane","LastName":"Doe","Email":[{"Type":"Primary","Value":"jane.doe@example.com"},{"Type":"Secondary","Value":"jd@example.org"}],"EmailVerified":true,"PasswordHash":"Rfc2898DeriveBytes$1000$c2FsdA==$aGFzaA==","CustomFields":{"loyaltyId":"L-000123","any.key":"kept"}}`

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
			u["Password"] = "s3cret"
			u["Username"] = "jane"
			u["PhoneID"] = "+15551234567"
			u["PhoneIDVerified"] = false
			u["Uid"] = "9b1f0c7e5a2d4c3e8f6a1b2c3d4e5f60"
		}},
		{name: "Password as our mapping sends it", mod: func(t *testing.T, u map[string]any) {
			delete(u, "PasswordHash")
			u["Password"] = jv(t, `{"PasswordHash":"Rfc2898DeriveBytes$1000$c2FsdA==$aGFzaA==","PasswordEncryption":{"Type":"PBKDF2"}}`)
		}},
		{name: "no Email is not checked (unconfirmed)", mod: func(t *testing.T, u map[string]any) { delete(u, "Email") }},
		{name: "unknown PascalCase fields are not checked (unconfirmed)", mod: func(t *testing.T, u map[string]any) { u["Gender"] = "F"; u["BirthDate"] = "1990-01-01" }},
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
		{name: "booleans as strings", mod: func(t *testing.T, u map[string]any) { u["EmailVerified"] = "true"; u["PhoneIDVerified"] = "false" },
			want: []string{"EmailVerified: type", "PhoneIDVerified: type"}},
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
