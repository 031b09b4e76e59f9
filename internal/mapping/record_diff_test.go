package mapping

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// mutations rewrite a sample account into the JSON corners the record
// engine must treat exactly as the map engine: escapes, HTML characters,
// repeated keys, number forms, empty values, metadata keys, invalid UTF-8,
// unexpected types, layout. Each appends members to the top-level object
// (a repeated top-level key replaces the earlier one, as in a decode) or
// rewrites the text.
var mutations = []struct {
	name string
	fn   func([]byte) []byte
}{
	{"unchanged", func(b []byte) []byte { return b }},
	{"escapes in data", appendMembers(`"data":{"a":"caf\u00e9 \/ \"q\" \n\t","b\u0041":"x","c":"\ud83d\ude00","d":"\u2028"}`)},
	{"html in data", appendMembers(`"data":{"html":"<b>&amp;</b>","k<>":1}`)},
	{"repeated keys", appendMembers(`"data":{"z":1,"a":2,"z":3,"a":"","m":{"q":1,"q":null}}`)},
	{"numbers", appendMembers(`"data":{"f":1.0,"e":1e2,"n":-0,"big":12345678901234567890,"neg":-12.5e-3,"tiny":1e-7,"huge":1e21,"i":-9223372036854775808,"frac":0.1}`)},
	{"number out of range", appendMembers(`"data":{"x":1e400}`)},
	{"empties", appendMembers(`"data":{"a":"","b":{},"c":[],"d":null,"e":{"f":{"g":[]}},"h":[null,"",{}],"i":" ","j":0,"k":false}`)},
	{"all empty data", appendMembers(`"data":{"a":{"b":null}},"preferences":{},"subscriptions":[]`)},
	{"metadata keys", appendMembers(`"data":{"a.b":1,"$c":{"d.e":"x"},"f":[{"g$":1}]}`)},
	{"metadata key collision", appendMembers(`"data":{"a.b":1,"a_b":2}`)},
	{"metadata key collision emptied", appendMembers(`"data":{"a.b":1,"a_b":""}`)},
	{"invalid utf8 value", appendMembers("\"data\":{\"a\":\"\xff\xfe\"}")},
	{"invalid utf8 key", appendMembers("\"data\":{\"\xff\":1}")},
	{"profile is a string", appendMembers(`"profile":"x"`)},
	{"profile is an array", appendMembers(`"profile":[1,2]`)},
	{"profile null", appendMembers(`"profile":null`)},
	{"identities not an array", appendMembers(`"identities":{"provider":"x"}`)},
	{"identities odd elements", appendMembers(`"identities":[1,"x",null,{"provider":"facebook","isLoginIdentity":"true","photoURL":"p1","country":" "},{"provider":"google","isLoginIdentity":true,"country":"fr","photoURL":""}]`)},
	{"identities invalid utf8 and empties", appendMembers("\"identities\":[{\"provider\":\"a\xff\",\"providerUID\":\"\",\"isLoginIdentity\":true},{\"provider\":\"<b>\"},{}]")},
	{"identities repeated keys", appendMembers(`"identities":[{"provider":"a","provider":"b","isLoginIdentity":true,"isLoginIdentity":false,"country":"de"}]`)},
	{"emails odd", appendMembers(`"emails":{"verified":["A@B.CO",null],"unverified":"x"}`)},
	{"emails bad address", appendMembers(`"emails":{"verified":["not an address"]}`)},
	{"login ids empty", appendMembers(`"loginIDs":{"emails":[]},"profile":{"email":"  "}`)},
	{"phones", appendMembers(`"profile":{"email":"a@b.co","phones":[{"type":"home","number":"030 1234567"},{"type":"Mobile","number":"0151 1234567"}]},"phoneNumber":"+49 151 1234567"`)},
	{"password md5 crypt", appendMembers(`"password":{"hash":"$1$abc$def","hashSettings":{"algorithm":"md5_crypt"}}`)},
	{"password odd", appendMembers(`"password":{"hash":5,"hashSettings":"x"}`)},
	{"password settings odd", appendMembers(`"password":{"hash":"c2FsdA==","hashSettings":{"algorithm":["pbkdf2"],"rounds":"1e3","salt":{"a":1}}}`)},
	{"password rounds forms", appendMembers(`"password":{"hash":"c2FsdA==","compoundHash":null,"hashSettings":{"algorithm":" PBKDF2_SHA256 ","rounds":1e3,"salt":"c2FsdA\u003d\u003d"}}`)},
	{"password rounds out of range", appendMembers(`"password":{"hash":"c2FsdA==","hashSettings":{"algorithm":"pbkdf2","rounds":123456789012345678901234567890,"salt":"c2FsdA=="}}`)},
	{"password repeated keys", appendMembers(`"password":{"hash":"x","hash":"c2FsdA==","hashSettings":{"algorithm":"sha1"},"hashSettings":{"algorithm":"md5"}}`)},
	{"password not an object", appendMembers(`"password":"secret"`)},
	{"password null settings", appendMembers(`"password":{"hash":"c2FsdA==","hashSettings":null}`)},
	{"booleans as strings", appendMembers(`"isVerified":"true","isActive":"no","isRegistered":1,"hasLiteAccount":"yes","hasFullAccount":"yes"`)},
	{"filter fails", appendMembers(`"hasLiteAccount":"maybe"`)},
	{"lite", appendMembers(`"hasLiteAccount":true,"hasFullAccount":false`)},
	{"big profile", func(b []byte) []byte {
		return appendMembers(`"data":{"blob":"` + strings.Repeat("x", 12000) + `"}`)(b)
	}},
	{"too big", func(b []byte) []byte {
		return appendMembers(`"data":{"blob":"` + strings.Repeat("y", 600000) + `"}`)(b)
	}},
	{"uid with auth0 prefix", appendMembers(`"UID":"auth0|abc"`)},
	{"uid number", appendMembers(`"UID":12`)},
	{"escaped top-level key", appendMembers(`"d\u0061ta":{"x":1},"prof\u0069le":{"email":"e@x.io"}`)},
	{"times", appendMembers(`"created":1700000000,"lastLogin":"2019-03-14T10:26:53.589+01:00","lastUpdated":"nonsense"`)},
	{"pretty", func(b []byte) []byte {
		var out bytes.Buffer
		for i, c := range b {
			out.WriteByte(c)
			if (c == ',' || c == ':' || c == '{') && i%3 == 0 {
				out.WriteString("\n\t ")
			}
		}
		return out.Bytes()
	}},
	{"trailing data", func(b []byte) []byte { return append(bytes.Clone(b), " x"...) }},
	{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
	{"bad nested number", appendMembers(`"profile":{"email":"a@b.co","zip":01}`)},
	{"bad skipped value", appendMembers(`"unusedKey":[1,,2]`)},
	{"control char", appendMembers("\"data\":{\"a\":\"x\ty\"}")},
	{"deep", func(b []byte) []byte {
		return appendMembers(`"data":{"d":` + strings.Repeat(`[`, 300) + `1` + strings.Repeat(`]`, 300) + `}`)(b)
	}},
}

// appendMembers returns a mutation that adds members at the end of the
// top-level object.
func appendMembers(members string) func([]byte) []byte {
	return func(b []byte) []byte {
		i := bytes.LastIndexByte(b, '}')
		if i < 0 {
			return b
		}
		out := append(bytes.Clone(b[:i]), ',')
		out = append(out, members...)
		return append(out, b[i:]...)
	}
}

// diffRecords is how many sample records the mutation tests use.
func diffRecords(n int) int {
	if raceEnabled {
		return n / 6
	}
	return n
}

func TestRecordEngineMatchesMapEngineOnMutations(t *testing.T) {
	recs := sampleRecords(t)[:diffRecords(60)]
	for _, path := range shippedMappings {
		d := newDiffer(t, path)
		for _, mu := range mutations {
			for i, r := range recs {
				d.check(fmt.Sprintf("%s of sample line %d", mu.name, i+1), mu.fn(r))
			}
		}
		t.Logf("%s: %d mutated records identical (%d through the map engine)", path, len(mutations)*len(recs), d.rec.Fallbacks())
	}
}

// testMappings exercise what the shipped mappings do not: defaults, flags,
// required objects, omit_empty off, the views, constructs the record
// engine leaves to expr's machine, and the mappings it does not run.
var testMappings = map[string]string{
	"paths and defaults": `
version: 1
target: t
validate: none
fields:
  p: profile
  ph: profile.phones
  first: profile.phones[0]
  last: profile.phones[-1].number
  d.terms: data.terms
  d.copy: data
  prefs: preferences
  sub.x:
    expr: subscriptions.newsletter
    default: '"none"'
  country:
    expr: profile.country
    default: identities.country
  empty:
    expr: data.nothing
    default: 'data.also_nothing ?? {"k": ""}'
  fb: identity.facebook.providerUID
  fbobj: identity.facebook
  site: identity.site.providerUID
  first_identity: identities[0].provider
  n_ids: len(identities ?? [])
required: [d, p]
`,
	"keep empties": `
version: 1
target: t
validate: none
omit_empty: false
fields:
  data: data
  p.email: profile.email
  p.none: profile.none
  flags: '[isActive, isVerified, nil, ""]'
  o: '{"a": nil, "b": "", "c": []}'
`,
	"machine constructs": `
version: 1
target: t
validate: none
fields:
  sum: '(profile.birthYear ?? 0) + 1'
  name: 'profile.firstName + " " + (profile.lastName ?? "")'
  upper: 'upper(profile.firstName ?? "")'
  has: '"email" in (profile ?? {})'
  let: 'let p = profile; p?.email'
  filtered: 'filter(identities ?? [], .isLoginIdentity == true)'
  env: '$env.UID'
  envkey: '$env["loginProvider"]'
  cond: 'isActive == true ? "on" : "off"'
  notnot: '!(isVerified == true)'
  andor: 'isActive == true && (isVerified == true || isRegistered == true)'
  bad_and:
    expr: 'profile.email && true'
    on_error: omit
    flag: flags.bad_and
  steps: 'reduce(1..50, #acc + #, 0)'
filters:
  - name: odd
    when: '(profile.birthDay ?? 0) % 7 == 3'
`,
	"errors and flags": `
version: 1
target: t
validate: none
fields:
  phone:
    expr: phone_e164(profile.phones[0].number)
    on_error: omit
    flag: meta.phone_failed
  hash:
    expr: auth0_password_hash(password)
    on_error: omit
    flag: meta.reset
  when: gigya_time(lastUpdated)
  email:
    expr: email(profile.email)
    required: true
`,
	"auth0 strip prefix": `
version: 1
target: auth0
repair: [strip_auth0_prefix, sanitize_metadata_keys]
fields:
  user_id: UID
  email: email(coalesce(profile.email, loginIDs.emails[0]))
  app_metadata.data: data
  app_metadata.profile: profile
  user_metadata: preferences
  picture: identities.photoURL
`,
	"fixed literals": `
version: 1
target: auth0
repair: [sanitize_metadata_keys]
fields:
  user_id: UID
  email: email(coalesce(profile.email, loginIDs.emails[0]))
  app_metadata.ids: 'map(identities ?? [], ({"p.x": #.provider, uid: #.providerUID, n: 1, f: 1.5, none: nil, nested: {a: #.provider}, all: #}))'
  app_metadata.dup: 'map(identities ?? [], ({a: #.provider, a: #.providerUID}))'
  app_metadata.empty: 'map(identities ?? [], ({}))'
  user_metadata.phones: 'map(profile.phones ?? [], ({n: #.number, t: #.type}))'
`,
	"fixed literals kept empty": `
version: 1
target: auth0
omit_empty: false
fields:
  user_id: UID
  email: email(coalesce(profile.email, loginIDs.emails[0]))
  app_metadata.ids: 'map(identities ?? [], ({provider: #.provider, uid: #.providerUID, none: nil}))'
  app_metadata.empty: 'map(identities ?? [], ({}))'
`,
	"auth0 unsanitized": `
version: 1
target: auth0
fields:
  user_id: UID
  email: email(coalesce(profile.email, loginIDs.emails[0]))
  user_metadata.data: data
  app_metadata.created_at: created
`,
	"auth0 password objects": `
version: 1
target: auth0
fields:
  user_id: UID
  email: email(coalesce(profile.email, loginIDs.emails[0]))
  custom_password_hash:
    expr: auth0_password_hash(password)
    on_error: omit
    default: '{"algorithm": "md5", "hash": {"value": UID}}'
  app_metadata.hash: 'password == nil ? nil : {"algorithm": "sha256", "hash": auth0_password_hash(password).hash}'
`,
	"coalesce": `
version: 1
target: t
validate: none
fields:
  picked: coalesce(profile.nickname, profile.firstName, "none")
  obj: coalesce(data.nothing, data, preferences)
  arrays: coalesce(emails.unverified, loginIDs.unverifiedEmails, identities)
  views: coalesce(profile.country, identities.country, identity.site)
  blank: coalesce(" ", profile.city, nil)
  lits: coalesce(nil, "", 0)
  nested: coalesce(coalesce(profile.zip, profile.city), UID)
  fails:
    expr: coalesce(UID, profile.email.x)
    on_error: omit
    flag: meta.fails
`,
	"loginradius raw": `
version: 1
target: loginradius
fields:
  Uid: UID
  Email: '[{Type: "Primary", Value: profile.email}]'
  CustomFields: data
  Profile: profile
`,
	"explode": `
version: 1
target: t
explode: identities
fields:
  id: UID
  provider: each.provider
`,
	"env whole": `
version: 1
target: t
fields:
  n: len(keys($env))
`,
}

func TestRecordEngineMatchesMapEngineOnMappings(t *testing.T) {
	recs := sampleRecords(t)[:diffRecords(40)]
	for name, src := range testMappings {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			m, err := Parse(name, []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			d := newDifferFor(t, m)
			n := 0
			for _, mu := range mutations {
				for i, r := range recs {
					d.check(fmt.Sprintf("%s of sample line %d", mu.name, i+1), mu.fn(r))
					n++
				}
			}
			t.Logf("%d records identical (%d through the map engine; record engine runs this mapping: %v)", n, d.rec.Fallbacks(), m.plan.ok)
		})
	}
}
