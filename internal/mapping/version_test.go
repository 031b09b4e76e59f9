package mapping

import (
	"regexp"
	"testing"
)

const versionBase = `version: 1
target: auth0
fields:
  user_id: UID
  email: lower(trim(profile.email ?? loginIDs.emails[0] ?? ""))
  name: 'profile.firstName + " " + profile.lastName'
  app_metadata.gigya_uid: UID
filters:
  - name: lite_account
    when: hasLiteAccount == true && hasFullAccount != true
required: [email, user_id]
`

// versionBaseGolden pins the hash of versionBase. It is part of message ids
// already published: if this test fails after a refactoring, the refactoring
// changed every mapping's version (and would re-publish every user); only
// change it together with engineRevision, on purpose.
const versionBaseGolden = "360aebca9772"

func TestVersionGolden(t *testing.T) {
	v := mustParse(t, versionBase).Version()
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(v) {
		t.Fatalf("Version() = %q, want 12 lowercase hex characters", v)
	}
	if v != versionBaseGolden {
		t.Errorf("Version() = %q, want the pinned %q", v, versionBaseGolden)
	}
}

func TestVersionIgnoresFormatting(t *testing.T) {
	base := mustParse(t, versionBase).Version()
	same := map[string]string{
		"comments and blank lines": `# the Auth0 mapping
version: 1   # format

target: auth0
fields:
  # the UID
  user_id: UID
  email: lower(trim(profile.email ?? loginIDs.emails[0] ?? "")) # normalised
  name: 'profile.firstName + " " + profile.lastName'
  app_metadata.gigya_uid: UID
filters:
  - name: lite_account
    when: hasLiteAccount == true && hasFullAccount != true
required: [email, user_id]
`,
		"flow style, other indentation and quoting": `{version: 1, target: "auth0",
 fields: {"user_id": "UID",
    email: "lower(trim(profile.email ?? loginIDs.emails[0] ?? \"\"))",
    name: "profile.firstName + \" \" + profile.lastName",
    'app_metadata.gigya_uid': UID},
 filters: [{when: "hasLiteAccount == true && hasFullAccount != true", name: lite_account}],
 required: [user_id, email]}
`,
		"block scalars and whitespace inside expressions": `version: 1
target: auth0
fields:
    user_id:   UID
    email: >-
      lower( trim(
        profile.email ?? loginIDs.emails[ 0 ] ?? ""
      ) )
    name: |
      profile.firstName   +   " "
        + profile.lastName   // join
    app_metadata.gigya_uid: |-
      /* the Gigya id */ UID
filters:
    -   when: |
          hasLiteAccount == true
          && hasFullAccount != true
        name: lite_account
required:
  - user_id
  - email
`,
	}
	for name, doc := range same {
		if v := mustParse(t, doc).Version(); v != base {
			t.Errorf("%s: Version() = %q, want %q", name, v, base)
		}
	}
}

func TestVersionChangesWithContent(t *testing.T) {
	base := mustParse(t, versionBase).Version()
	seen := map[string]string{base: "base"}
	changed := map[string][2]string{
		"an identifier":         {"loginIDs.emails[0]", "loginIDs.emails[1]"},
		"a function":            {"lower(trim(", "upper(trim("},
		"space inside a string": {`+ " " +`, `+ "  " +`},
		"an operator":           {"!= true", "== false"},
		"a field path":          {"app_metadata.gigya_uid", "app_metadata.gigya_id"},
		"the target":            {"target: auth0", "target: auth0-eu"},
		"a filter name":         {"name: lite_account", "name: lite"},
		"a filter expression":   {"hasLiteAccount == true &&", "hasLiteAccount &&"},
		"the required set":      {"required: [email, user_id]", "required: [email]"},
		"the field order":       {"  user_id: UID\n  email: lower(trim(profile.email ?? loginIDs.emails[0] ?? \"\"))\n", "  email: lower(trim(profile.email ?? loginIDs.emails[0] ?? \"\"))\n  user_id: UID\n"},
		"an added field":        {"  app_metadata.gigya_uid: UID\n", "  app_metadata.gigya_uid: UID\n  nickname: profile.nickname\n"},
		"a string literal":      {`?? ""))`, `?? "-"))`},
	}
	for name, c := range changed {
		doc := replaceOnce(t, versionBase, c[0], c[1])
		v := mustParse(t, doc).Version()
		if prev, dup := seen[v]; dup {
			t.Errorf("changing %s gives version %q, same as %s", name, v, prev)
		}
		seen[v] = name
	}
}

func replaceOnce(t *testing.T, s, old, repl string) string {
	t.Helper()
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + repl + s[i+len(old):]
		}
	}
	t.Fatalf("%q not found", old)
	return ""
}

func TestNormalizeExpr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  a  +\n\tb ", "a + b"},
		{"lower( trim( x ) )", "lower(trim(x))"},
		{"f(a , b ; c)", "f(a,b;c)"},
		{"a // comment\n+ b", "a + b"},
		{"a /* c\n c */ - b", "a - b"},
		{"a/**/b", "a b"},
		{`"a  // b"  +  'c /* d */'`, `"a  // b" + 'c /* d */'`},
		{`"esc \" // still string"   x`, `"esc \" // still string" x`},
		{`'it\'s'  +  "x"`, `'it\'s' + "x"`},
		{"`raw ``quoted``   //x`   +  y", "`raw ``quoted``   //x` + y"},
		{`b"x"  +  b 'y'`, `b"x" + b 'y'`},
		{"x ?? [ 1 ,2 ]", "x ??[1,2]"},
		{"not  in", "not in"},
		{"a\u00a0b", "a b"}, // Unicode space, as expr's lexer skips it
		{"", ""},
		{"// only a comment", ""},
		{`"unterminated  `, `"unterminated  `},
	}
	for _, tt := range tests {
		if got := normalizeExpr(tt.in); got != tt.want {
			t.Errorf("normalizeExpr(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
