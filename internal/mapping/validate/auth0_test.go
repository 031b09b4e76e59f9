package validate_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
)

// set stores v at a dotted path in u, creating objects on the way.
func set(u map[string]any, path string, v any) {
	segs := strings.Split(path, ".")
	m := u
	for _, s := range segs[:len(segs)-1] {
		child, ok := m[s].(map[string]any)
		if !ok {
			child = map[string]any{}
			m[s] = child
		}
		m = child
	}
	m[segs[len(segs)-1]] = v
}

const (
	bcrypt10    = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K" // Auth0's published example: "hello", cost 10
	gigyaPBKDF2 = "$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE"
)

type auth0Case struct {
	name     string
	opts     validate.Options
	mod      func(t *testing.T, u map[string]any) // applied to a fresh janeDoe
	want     []string                             // violations, "path: rule"
	warn     []string
	repaired []string
	after    func(t *testing.T, u map[string]any) // checks the user after Validate
}

func runAuth0(t *testing.T, cases []auth0Case) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			u := decode(t, janeDoe)
			if tt.mod != nil {
				tt.mod(t, u)
			}
			before := fmt.Sprint(u) // not JSON: some cases hold values JSON cannot encode
			res := validate.NewAuth0(tt.opts).Validate(u)
			checkFindings(t, "violations", res.Violations, tt.want)
			checkFindings(t, "warnings", res.Warnings, tt.warn)
			checkFindings(t, "repaired", res.Repaired, tt.repaired)
			if after := fmt.Sprint(u); len(tt.repaired) == 0 && after != before {
				t.Errorf("the user changed without a repair:\n before %s\n after  %s", before, after)
			}
			if tt.after != nil {
				tt.after(t, u)
			}
		})
	}
}

func TestAuth0Valid(t *testing.T) {
	runAuth0(t, []auth0Case{
		{name: "the Gigya example user"},
		{name: "minimal user", mod: func(t *testing.T, u map[string]any) {
			for k := range u {
				if k != "email" {
					delete(u, k)
				}
			}
		}},
		{name: "every schema field", mod: func(t *testing.T, u map[string]any) {
			delete(u, "custom_password_hash")
			u["phone_number"] = "+12125550001"
			u["phone_verified"] = true
			u["username"] = "jane"
			u["password_hash"] = bcrypt10
			u["mfa_factors"] = jv(t, `[{"totp":{"secret":"2PRXZWZAYYDAWCD"}},{"phone":{"value":"+15551112233"}},{"email":{"value":"antoinette@antoinette.biz"}}]`)
		}},
		{name: "ten mfa factors", mod: func(t *testing.T, u map[string]any) {
			u["mfa_factors"] = jv(t, `[`+strings.TrimSuffix(strings.Repeat(`{"totp":{"secret":"JBTWY3DPEHPK3PNP"}},`, 10), ",")+`]`)
		}},
		{name: "email variants", mod: func(t *testing.T, u map[string]any) {
			u["email"] = "first.last+tag@mail.sub.example.co.uk"
			u["mfa_factors"] = jv(t, `[{"email":{"value":"jö@exämple.de"}}]`)
		}},
		{name: "app_metadata keys close to reserved ones", mod: func(t *testing.T, u map[string]any) {
			u["app_metadata"] = map[string]any{"gigya_created_at": 1, "Email": "x", "user": "y", "created": true}
		}},
		{name: "Go values the mapping can produce", mod: func(t *testing.T, u map[string]any) {
			type name string
			u["email"] = name("jane.doe@example.com")
			u["user_metadata"] = map[string]any{
				"tags":    []string{"a", "b"},
				"seen":    time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC),
				"counts":  map[string]int{"logins": 3},
				"ratio":   0.5,
				"nothing": nil,
				"big":     uint64(math.MaxUint64),
				"ptr":     new(int),
				"bytes":   []byte("raw"),
			}
		}},
		{name: "size just under the warning", mod: func(t *testing.T, u map[string]any) {
			u["user_metadata"] = map[string]any{"blob": strings.Repeat("x", 9000)}
		}},
	})
}

func TestAuth0TopLevel(t *testing.T) {
	runAuth0(t, []auth0Case{
		{name: "email missing", mod: func(t *testing.T, u map[string]any) { delete(u, "email") },
			want: []string{"email: required"}},
		{name: "email not a string", mod: func(t *testing.T, u map[string]any) { u["email"] = int64(42) },
			want: []string{"email: type"}},
		{name: "email null", mod: func(t *testing.T, u map[string]any) { u["email"] = nil },
			want: []string{"email: type"}},
		{name: "email empty", mod: func(t *testing.T, u map[string]any) { u["email"] = "" },
			want: []string{"email: format_email"}},
		{name: "email with display name", mod: func(t *testing.T, u map[string]any) { u["email"] = "Jane Doe <jane@example.com>" },
			want: []string{"email: format_email"}},
		{name: "email with a leading space", mod: func(t *testing.T, u map[string]any) { u["email"] = " jane@example.com" },
			want: []string{"email: format_email"}},
		{name: "email without domain dot", mod: func(t *testing.T, u map[string]any) { u["email"] = "jane@localhost" },
			want: []string{"email: format_email"}},
		{name: "email with IP literal", mod: func(t *testing.T, u map[string]any) { u["email"] = "jane@[192.0.2.1]" },
			want: []string{"email: format_email"}},
		{name: "email with underscore domain", mod: func(t *testing.T, u map[string]any) { u["email"] = "jane@ex_ample.com" },
			want: []string{"email: format_email"}},
		{name: "email with double dot", mod: func(t *testing.T, u map[string]any) { u["email"] = "jane..doe@example.com" },
			want: []string{"email: format_email"}},
		{name: "email without @", mod: func(t *testing.T, u map[string]any) { u["email"] = "jane.example.com" },
			want: []string{"email: format_email"}},
		{name: "email local part too long", mod: func(t *testing.T, u map[string]any) { u["email"] = strings.Repeat("a", 65) + "@example.com" },
			want: []string{"email: format_email"}},
		{name: "boolean as string", mod: func(t *testing.T, u map[string]any) { u["email_verified"] = "true"; u["blocked"] = int64(0) },
			want: []string{"blocked: type", "email_verified: type"}},
		{name: "unknown top-level name", mod: func(t *testing.T, u map[string]any) { u["emails"] = []any{"jane.doe@example.com"} },
			want: []string{"emails: additional_property"}},
		{name: "Gigya name at top level", mod: func(t *testing.T, u map[string]any) { u["firstName"] = "Jane" },
			want: []string{"firstName: additional_property"}},
		{name: "string fields with other types", mod: func(t *testing.T, u map[string]any) {
			u["user_id"] = int64(123)
			u["picture"] = map[string]any{}
			u["given_name"] = []any{"Jane"}
			u["username"] = time.Now()
		}, want: []string{"given_name: type", "picture: type", "user_id: type", "username: type"}},
		{name: "metadata not objects", mod: func(t *testing.T, u map[string]any) {
			u["app_metadata"] = "x"
			u["user_metadata"] = []any{}
		}, want: []string{"app_metadata: type", "user_metadata: type"}},
		{name: "user_id with auth0 prefix", mod: func(t *testing.T, u map[string]any) { u["user_id"] = "auth0|x" },
			want: []string{"user_id: user_id_prefix"}},
		{name: "phone_number with 00 prefix", mod: func(t *testing.T, u map[string]any) { u["phone_number"] = "0049301234567" },
			want: []string{"phone_number: e164"}},
		{name: "phone_number with + and 0", mod: func(t *testing.T, u map[string]any) { u["phone_number"] = "+049301234567" },
			want: []string{"phone_number: e164"}},
		{name: "phone_number with spaces", mod: func(t *testing.T, u map[string]any) { u["phone_number"] = "+1 212 555 0001" },
			want: []string{"phone_number: e164"}},
		{name: "phone_number too long", mod: func(t *testing.T, u map[string]any) { u["phone_number"] = "+1234567890123456" },
			want: []string{"phone_number: e164"}},
		{name: "phone_verified not a boolean", mod: func(t *testing.T, u map[string]any) { u["phone_verified"] = "yes" },
			want: []string{"phone_verified: type"}},
	})
}

func TestAuth0Metadata(t *testing.T) {
	runAuth0(t, []auth0Case{
		{name: "reserved app_metadata key", mod: func(t *testing.T, u map[string]any) { set(u, "app_metadata.created_at", "2019") },
			want: []string{"app_metadata.created_at: reserved_app_metadata_key"}},
		{name: "every reserved key", mod: func(t *testing.T, u map[string]any) {
			m := map[string]any{}
			for _, k := range []string{"__tenant", "_id", "blocked", "clientID", "created_at", "email_verified", "email", "globalClientID", "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount", "metadata", "multifactor_last_modified", "multifactor", "updated_at", "user_id"} {
				m[k] = 1
			}
			u["app_metadata"] = m
		}, want: []string{
			"app_metadata.__tenant: reserved_app_metadata_key", "app_metadata._id: reserved_app_metadata_key",
			"app_metadata.blocked: reserved_app_metadata_key", "app_metadata.clientID: reserved_app_metadata_key",
			"app_metadata.created_at: reserved_app_metadata_key", "app_metadata.email_verified: reserved_app_metadata_key",
			"app_metadata.email: reserved_app_metadata_key", "app_metadata.globalClientID: reserved_app_metadata_key",
			"app_metadata.global_client_id: reserved_app_metadata_key", "app_metadata.identities: reserved_app_metadata_key",
			"app_metadata.lastIP: reserved_app_metadata_key", "app_metadata.lastLogin: reserved_app_metadata_key",
			"app_metadata.loginsCount: reserved_app_metadata_key", "app_metadata.metadata: reserved_app_metadata_key",
			"app_metadata.multifactor_last_modified: reserved_app_metadata_key", "app_metadata.multifactor: reserved_app_metadata_key",
			"app_metadata.updated_at: reserved_app_metadata_key", "app_metadata.user_id: reserved_app_metadata_key",
		}},
		{name: "reserved names are fine in user_metadata", mod: func(t *testing.T, u map[string]any) { set(u, "user_metadata.created_at", "2019") }},
		{name: "dot in a nested user_metadata key", mod: func(t *testing.T, u map[string]any) { set(u, "user_metadata.a", map[string]any{"a.b": 1}) },
			want: []string{`user_metadata.a["a.b"]: metadata_key_chars`}},
		{name: "dollar in an app_metadata key", mod: func(t *testing.T, u map[string]any) { set(u, "app_metadata.$set", 1) },
			want: []string{"app_metadata.$set: metadata_key_chars"}},
		{name: "bad key inside an array", mod: func(t *testing.T, u map[string]any) {
			set(u, "user_metadata.gigya_data.items", jv(t, `[1, {"ok": {"x.y": 2}}]`))
		}, want: []string{`user_metadata.gigya_data.items[1].ok["x.y"]: metadata_key_chars`}},
		{name: "bad key in a typed map", mod: func(t *testing.T, u map[string]any) { set(u, "user_metadata.m", map[string]string{"a.b": "c"}) },
			want: []string{`user_metadata.m["a.b"]: metadata_key_chars`}},
		{name: "dots are fine outside metadata values' keys", mod: func(t *testing.T, u map[string]any) {
			set(u, "user_metadata.site", "www.example.com")
			set(u, "user_metadata.price", "$5")
		}},
	})
}

func TestAuth0SanitizeMetadataKeys(t *testing.T) {
	sanitize := validate.Options{SanitizeMetadataKeys: true}
	runAuth0(t, []auth0Case{
		{name: "renames a nested key", opts: sanitize,
			mod:      func(t *testing.T, u map[string]any) { set(u, "user_metadata.a", map[string]any{"a.b": int64(1)}) },
			repaired: []string{`user_metadata.a["a.b"]: metadata_key_chars`},
			after: func(t *testing.T, u map[string]any) {
				if got := marshal(t, u["user_metadata"].(map[string]any)["a"]); got != `{"a_b":1}` {
					t.Errorf("user_metadata.a = %s, want {\"a_b\":1}", got)
				}
			}},
		{name: "renames inside arrays and both metadata objects", opts: sanitize,
			mod: func(t *testing.T, u map[string]any) {
				set(u, "user_metadata.list", jv(t, `[{"$x": 1}, "y"]`))
				u["app_metadata"].(map[string]any)["v.1"] = "z"
			},
			repaired: []string{`user_metadata.list[0].$x: metadata_key_chars`, `app_metadata["v.1"]: metadata_key_chars`},
			after: func(t *testing.T, u map[string]any) {
				if got := marshal(t, u["user_metadata"].(map[string]any)["list"]); got != `[{"_x":1},"y"]` {
					t.Errorf("list = %s", got)
				}
				if _, ok := u["app_metadata"].(map[string]any)["v_1"]; !ok {
					t.Errorf("app_metadata = %s", marshal(t, u["app_metadata"]))
				}
			}},
		{name: "collision with an existing key", opts: sanitize,
			mod:  func(t *testing.T, u map[string]any) { set(u, "user_metadata.a", map[string]any{"a.b": 1, "a_b": 2}) },
			want: []string{`user_metadata.a["a.b"]: metadata_key_collision`}},
		{name: "two keys with the same new name", opts: sanitize,
			mod: func(t *testing.T, u map[string]any) {
				u["user_metadata"] = map[string]any{"a.b": 1, "a$b": 2, "c.d": 3}
			},
			want:     []string{`user_metadata["a.b"]: metadata_key_collision`, `user_metadata.a$b: metadata_key_collision`},
			repaired: []string{`user_metadata["c.d"]: metadata_key_chars`},
			after: func(t *testing.T, u map[string]any) {
				if got := marshal(t, u["user_metadata"]); got != `{"a$b":2,"a.b":1,"c_d":3}` {
					t.Errorf("user_metadata = %s: colliding keys must stay, others be renamed", got)
				}
			}},
		{name: "a repaired key can be reserved", opts: sanitize,
			mod:      func(t *testing.T, u map[string]any) { u["app_metadata"] = map[string]any{"created.at": 1} },
			want:     []string{"app_metadata.created_at: reserved_app_metadata_key"},
			repaired: []string{`app_metadata["created.at"]: metadata_key_chars`}},
		{name: "typed map is repaired into a new object", opts: sanitize,
			mod:      func(t *testing.T, u map[string]any) { u["user_metadata"] = map[string]string{"a.b": "c"} },
			repaired: []string{`user_metadata["a.b"]: metadata_key_chars`},
			after: func(t *testing.T, u map[string]any) {
				if got := marshal(t, u["user_metadata"]); got != `{"a_b":"c"}` {
					t.Errorf("user_metadata = %s", got)
				}
			}},
		{name: "nothing to repair", opts: sanitize},
	})
}

// TestSanitizeCopiesOnWrite checks that the repair never writes into
// nested values, which the mapping may share with the decoded account.
func TestSanitizeCopiesOnWrite(t *testing.T) {
	shared := map[string]any{"x.y": 1, "keep": []any{map[string]any{"$k": 2}}}
	account := map[string]any{"data": shared}
	before := marshal(t, account)
	u := decode(t, janeDoe)
	set(u, "user_metadata.gigya_data", shared)
	res := validate.NewAuth0(validate.Options{SanitizeMetadataKeys: true}).Validate(u)
	if len(res.Repaired) != 2 || len(res.Violations) != 0 {
		t.Fatalf("result = %+v", res)
	}
	if after := marshal(t, account); after != before {
		t.Errorf("the shared account data changed:\n before %s\n after  %s", before, after)
	}
	if got := marshal(t, u["user_metadata"].(map[string]any)["gigya_data"]); got != `{"keep":[{"_k":2}],"x_y":1}` {
		t.Errorf("gigya_data = %s", got)
	}
}

func TestAuth0StripAuth0Prefix(t *testing.T) {
	strip := validate.Options{StripAuth0Prefix: true}
	runAuth0(t, []auth0Case{
		{name: "strips the prefix", opts: strip,
			mod:      func(t *testing.T, u map[string]any) { u["user_id"] = "auth0|x" },
			repaired: []string{"user_id: user_id_prefix"},
			after: func(t *testing.T, u map[string]any) {
				if u["user_id"] != "x" {
					t.Errorf("user_id = %v, want x", u["user_id"])
				}
			}},
		{name: "strips one prefix only", opts: strip,
			mod:      func(t *testing.T, u map[string]any) { u["user_id"] = "auth0|auth0|x" },
			want:     []string{"user_id: user_id_prefix"},
			repaired: []string{"user_id: user_id_prefix"}},
		{name: "does not make the id empty", opts: strip,
			mod:  func(t *testing.T, u map[string]any) { u["user_id"] = "auth0|" },
			want: []string{"user_id: user_id_prefix"}},
		{name: "leaves other ids alone", opts: strip,
			mod: func(t *testing.T, u map[string]any) { u["user_id"] = "google-oauth2|123" }},
	})
}

func TestAuth0PasswordHash(t *testing.T) {
	noCustom := func(v string) func(t *testing.T, u map[string]any) {
		return func(t *testing.T, u map[string]any) {
			delete(u, "custom_password_hash")
			u["password_hash"] = v
		}
	}
	runAuth0(t, []auth0Case{
		{name: "bcrypt $2b$ cost 10", mod: noCustom(bcrypt10)},
		{name: "bcrypt $2a$ cost 10", mod: noCustom("$2a$10$aHF7mbpWT6tZ7PJVtwtjNelaKbszikcYBCB2jibvbFcGFmOsu/s4K")},
		{name: "$2y$", mod: noCustom("$2y$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"),
			want: []string{"password_hash: password_hash_format"}},
		{name: "cost 12", mod: noCustom("$2b$12$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"),
			want: []string{"password_hash: password_hash_format"}},
		{name: "truncated", mod: noCustom(bcrypt10[:59]),
			want: []string{"password_hash: password_hash_format"}},
		{name: "not bcrypt", mod: noCustom(gigyaPBKDF2),
			want: []string{"password_hash: password_hash_format"}},
		{name: "with custom_password_hash", mod: func(t *testing.T, u map[string]any) { u["password_hash"] = bcrypt10 },
			want: []string{"password_hash: password_hash_exclusive"}},
	})
}

func TestAuth0MFAFactors(t *testing.T) {
	mfa := func(s string) func(t *testing.T, u map[string]any) {
		return func(t *testing.T, u map[string]any) { u["mfa_factors"] = jv(t, s) }
	}
	runAuth0(t, []auth0Case{
		{name: "empty", mod: mfa(`[]`), want: []string{"mfa_factors: array_length"}},
		{name: "eleven", mod: mfa(`[` + strings.TrimSuffix(strings.Repeat(`{"totp":{"secret":"JBTWY3DPEHPK3PNP"}},`, 11), ",") + `]`),
			want: []string{"mfa_factors: array_length"}},
		{name: "not an array", mod: mfa(`{"totp":{"secret":"JBTWY3DPEHPK3PNP"}}`), want: []string{"mfa_factors: type"}},
		{name: "item not an object", mod: mfa(`["+15551112233"]`), want: []string{"mfa_factors[0]: type"}},
		{name: "two factors in one item", mod: mfa(`[{"totp":{"secret":"JBTWY3DPEHPK3PNP"},"phone":{"value":"+15551112233"}}]`),
			want: []string{"mfa_factors[0]: mfa_factor_shape"}},
		{name: "empty item", mod: mfa(`[{}]`), want: []string{"mfa_factors[0]: mfa_factor_shape"}},
		{name: "unknown factor", mod: mfa(`[{"sms":{"value":"+15551112233"}}]`), want: []string{"mfa_factors[0].sms: additional_property"}},
		{name: "totp secret lower case", mod: mfa(`[{"totp":{"secret":"jbtwy3dpehpk3pnp"}}]`),
			want: []string{"mfa_factors[0].totp.secret: totp_secret_base32"}},
		{name: "totp secret padded", mod: mfa(`[{"totp":{"secret":"JBTWY3DPEHPK3PNP===="}}]`),
			want: []string{"mfa_factors[0].totp.secret: totp_secret_base32"}},
		{name: "totp without secret", mod: mfa(`[{"totp":{}}]`), want: []string{"mfa_factors[0].totp.secret: required"}},
		{name: "phone not E.164", mod: mfa(`[{"totp":{"secret":"JBTWY3DPEHPK3PNP"}},{"phone":{"value":"+0049301234567"}}]`),
			want: []string{"mfa_factors[1].phone.value: e164"}},
		{name: "phone with extra member", mod: mfa(`[{"phone":{"value":"+15551112233","type":"sms"}}]`),
			want: []string{"mfa_factors[0].phone.type: additional_property"}},
		{name: "email invalid", mod: mfa(`[{"email":{"value":"not an email"}}]`), want: []string{"mfa_factors[0].email.value: format_email"}},
		{name: "email value a number", mod: mfa(`[{"email":{"value":1}}]`), want: []string{"mfa_factors[0].email.value: type"}},
	})
}

func TestAuth0Encoding(t *testing.T) {
	runAuth0(t, []auth0Case{
		{name: "invalid UTF-8 in a name", mod: func(t *testing.T, u map[string]any) { u["given_name"] = "J\xffne" },
			want: []string{"given_name: invalid_utf8"}},
		{name: "invalid UTF-8 in a metadata key", mod: func(t *testing.T, u map[string]any) { set(u, "user_metadata.k\xfe", "v") },
			want: []string{`user_metadata["k\xfe"]: invalid_utf8`}},
		{name: "NaN in metadata", mod: func(t *testing.T, u map[string]any) { set(u, "app_metadata.score", math.NaN()) },
			want: []string{"app_metadata.score: json_value"}},
		{name: "a channel in metadata", mod: func(t *testing.T, u map[string]any) { set(u, "app_metadata.ch", make(chan int)) },
			want: []string{"app_metadata.ch: json_value"}},
	})
}

// TestAuth0Cycle checks that a value containing itself is reported, not
// followed until the stack overflows.
func TestAuth0Cycle(t *testing.T) {
	for _, opts := range []validate.Options{{}, {SanitizeMetadataKeys: true}} {
		u := decode(t, janeDoe)
		m := map[string]any{}
		m["self"] = m
		set(u, "user_metadata.loop", m)
		res := validate.NewAuth0(opts).Validate(u)
		if len(res.Violations) != 1 || res.Violations[0].Rule != validate.RuleJSONValue ||
			!strings.HasPrefix(res.Violations[0].Path, "user_metadata.loop.self.self") {
			t.Errorf("opts %+v: violations = %q", opts, keys(res.Violations))
		}
	}
}

func TestAuth0Size(t *testing.T) {
	runAuth0(t, []auth0Case{
		{name: "11 KB user is a warning only", mod: func(t *testing.T, u map[string]any) {
			set(u, "user_metadata.blob", strings.Repeat("x", 11*1024))
		}, warn: []string{": profile_size"}},
		{name: "a user bigger than an import file", mod: func(t *testing.T, u map[string]any) {
			set(u, "user_metadata.blob", strings.Repeat("x", 600_000))
		}, want: []string{": max_size"}},
		{name: "escapes count", mod: func(t *testing.T, u map[string]any) {
			set(u, "user_metadata.blob", strings.Repeat("\x01", 2000)) // 6 bytes each as JSON
		}, warn: []string{": profile_size"}},
		{name: "long names are warnings", mod: func(t *testing.T, u map[string]any) {
			u["given_name"] = strings.Repeat("ä", 151)
			u["family_name"] = strings.Repeat("ä", 150)
			u["nickname"] = strings.Repeat("n", 301)
			u["name"] = ""
		}, warn: []string{"given_name: length", "name: length", "nickname: length"}},
	})
}

// TestAuth0DocExamples runs every user of the examples of Auth0's bulk-import
// schema page (custom password hashes and MFA factors; docs/apis/auth0.md,
// "Published hash examples"): all must be valid.
func TestAuth0DocExamples(t *testing.T) {
	users := `[
{"email":"antoinette@contoso.com","email_verified":false,"custom_password_hash":{"algorithm":"md4","hash":{"value":"AbuUujgF0pPPkJPSFRTpmA==","encoding":"base64"}}},
{"email":"mary@contoso.com","email_verified":false,"custom_password_hash":{"algorithm":"sha256","hash":{"value":"d24e794fce503c3ddb1cd1ba1dd5d9b250cf9917336a0316fefd87fecf79200f","encoding":"hex"},"salt":{"value":"abc123","position":"prefix"}}},
{"email":"velma@contoso.com","email_verified":false,"custom_password_hash":{"algorithm":"bcrypt","hash":{"value":"$2b$10$C9hB01.YxRSTcn/ZOOo4j.TW7xCKKFKBSF.C7E0xiUwumqIDqWUXG"}}},
{"email":"edward@contoso.com","email_verified":false,"custom_password_hash":{"algorithm":"argon2","hash":{"value":"$argon2id$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"}}},
{"email":"terrell@contoso.com","email_verified":false,"custom_password_hash":{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-md4$i=100000,l=64$+N375B8q0Fw$fp2R9KAM4hK/votGHC5Fu+jhqbxUD8+Nic/EMSGvNC3UP/k7wSHI0uXluHRSkZfl/BOheYqNOemayG90ZaSSQw","encoding":"utf8"}}},
{"email":"cecil@contoso.com","email_verified":false,"custom_password_hash":{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=100000,l=64$KNyFsA2rWoE$I2CQGI9H0JxdDf3kERRI97kPCGxh0KWBIV3MxyaS191gDGfzVBGyS4BibhgqWQ0/ails8mHuU9ckASxHOOq58w"}}},
{"email":"sean@contoso.com","email_verified":false,"custom_password_hash":{"algorithm":"ldap","hash":{"value":"{SSHA384}/cgEjdoZh85DhurDeOQEMO1rMlAur93SVPbYe5XSD4lF7nNuvrBju5hUeg9A6agRemgSXGl5YuE=","encoding":"utf8"}}},
{"email":"peter@contoso.com","email_verified":false,"custom_password_hash":{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha1","key":{"value":"736868","encoding":"hex"}}}},
{"email":"carmella@contoso.com","email_verified":false,"custom_password_hash":{"algorithm":"scrypt","hash":{"value":"097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29","encoding":"hex"},"salt":{"value":"abc123","encoding":"utf8"},"keylen":32,"cost":4096}},
{"user_id":"2000","email":"examplecouser20@gmail.com","given_name":"ExampleCo User","name":"ExampleCoUser20","custom_password_hash":{"algorithm":"bcrypt","hash":{"value":"$2a$10$aHF7mbpWT6tZ7PJVtwtjNelaKbszikcYBCB2jibvbFcGFmOsu/s4K"}}},
{"email":"john.doe@contoso.com","email_verified":false,"app_metadata":{"roles":["admin"],"plan":"premium"},"user_metadata":{"theme":"light"}},
{"email":"antoinette@contoso.com","mfa_factors":[{"totp":{"secret":"2PRXZWZAYYDAWCD"}},{"phone":{"value":"+15551112233"}},{"email":{"value":"antoinette@antoinette.biz"}}]}
]`
	v := validate.NewAuth0(validate.Options{})
	for i, u := range jv(t, users).([]any) {
		res := v.Validate(u.(map[string]any))
		if len(res.Violations)+len(res.Warnings) > 0 {
			t.Errorf("doc example %d (%s):\n%s%s", i, u.(map[string]any)["email"], dump(res.Violations), dump(res.Warnings))
		}
	}
}

// rawObject is a validate.RawObject as the record engine passes the
// objects of a mapping's own fields: keys known, the map never needed
// unless a check must look inside.
type rawObject struct {
	keys   []string
	values int // how many times Value was asked for
}

func (o *rawObject) RawFacts() (int, bool, bool) { return 2 + 10*len(o.keys), true, false }
func (o *rawObject) RawKeys() []string           { return o.keys }
func (o *rawObject) Value() any {
	o.values++
	m := map[string]any{}
	for _, k := range o.keys {
		m[k] = "x"
	}
	return m
}

// TestAuth0ChecksMetadataObjectsByTheirKeys: app_metadata's reserved keys
// and the metadata objects' type are checked from RawKeys, without building
// the objects.
func TestAuth0ChecksMetadataObjectsByTheirKeys(t *testing.T) {
	app := &rawObject{keys: []string{"gigya_uid", "created_at", "blocked"}}
	user := &rawObject{keys: []string{"locale"}}
	u := decode(t, janeDoe)
	u["app_metadata"], u["user_metadata"] = app, user
	res := validate.NewAuth0(validate.Options{SanitizeMetadataKeys: true}).Validate(u)
	checkFindings(t, "violations", res.Violations, []string{
		"app_metadata.blocked: reserved_app_metadata_key", "app_metadata.created_at: reserved_app_metadata_key"})
	if app.values+user.values != 0 {
		t.Errorf("the objects were built %d times; their keys were enough", app.values+user.values)
	}
}

// converted is a validate.Converted holding a custom_password_hash.
type converted struct {
	by string
	v  any
}

func (c converted) RawFacts() (int, bool, bool) { return 40, true, false }
func (c converted) Value() any                  { return c.v }
func (c converted) ConvertedBy() string         { return c.by }

// TestAuth0TrustsOnlyTheConvertersObjects: the shape checks of
// custom_password_hash are skipped for auth0_password_hash's own object,
// and only for it.
func TestAuth0TrustsOnlyTheConvertersObjects(t *testing.T) {
	bad := map[string]any{"algorithm": "md5", "hash": map[string]any{"value": "x"}} // no encoding
	for _, tc := range []struct {
		by   string
		want []string
	}{
		{validate.ConverterAuth0, nil},
		{"", []string{"custom_password_hash.hash.encoding: custom_password_hash_shape"}},
		{"loginradius_password_hash", []string{"custom_password_hash.hash.encoding: custom_password_hash_shape"}},
	} {
		u := decode(t, janeDoe)
		delete(u, "password_hash")
		u["custom_password_hash"] = converted{by: tc.by, v: bad}
		res := validate.NewAuth0(validate.Options{}).Validate(u)
		checkFindings(t, "violations ("+tc.by+")", res.Violations, tc.want)
	}
}
