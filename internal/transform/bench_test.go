package transform

import (
	"bytes"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash"
	"github.com/gigya-migrate/gigya-migrate/internal/swar"
	"github.com/segmentio/encoding/json"
)

// The floor for BenchmarkMapAuth0: configs/auth0.yaml written by hand as
// the fastest plain Go we could write for it, the way a team would without
// a mapping engine and with speed as the goal: one pass over the record
// that checks it is valid JSON and decodes only the fields the mapping
// needs into a typed struct (strings left in the input, no copies), plain
// Go for each field, the same password converter, the subtrees copied
// from the raw JSON (keys sorted, empty values dropped, as the users must
// be), and the user appended to a reused buffer in its final key order.
// TestHandWrittenReferenceMatches checks it writes exactly the engine's
// bytes on generated accounts; it handles what the generated accounts hold,
// not every corner of the helpers (it rejects what it does not handle).

type hwAccount struct {
	UID, Created, LastLogin, LastUpdated, LoginProvider, PhoneNumber string
	IsVerified, IsActive, IsRegistered                               *bool
	HasLiteAccount, HasFullAccount                                   bool
	LoginEmails, Verified, Unverified                                []string
	Profile                                                          hwProfile
	Identities                                                       []hwIdentity
	Subscriptions, Preferences, Data                                 []byte // raw JSON
	HasPassword                                                      bool
	Password                                                         passhash.Gigya
}

type hwProfile struct {
	Email, FirstName, LastName, Nickname, PhotoURL, Country, City, Locale, Gender string
	BirthYear, BirthMon, BirthDay                                                 int
	Phones                                                                        []hwPhone
}

type hwPhone struct{ Type, Number string }

type hwIdentity struct {
	Provider, ProviderUID, PhotoURL, Country string
	IsLoginIdentity                          bool
}

// hwDec decodes the fields the floor needs, checking the JSON grammar of
// everything it passes over.
type hwDec struct {
	b   []byte
	i   int
	err bool
}

func (d *hwDec) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *hwDec) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *hwDec) expect(c byte) {
	d.ws()
	if d.peek() != c {
		d.err = true
		return
	}
	d.i++
}

// str decodes a string: a view of the input, or a copy when it has escapes.
func (d *hwDec) str() string {
	d.ws()
	if d.peek() != '"' {
		d.err = true
		return ""
	}
	start := d.i + 1
	i := start
	for i+8 <= len(d.b) { // eight bytes at a time up to a quote, backslash or control byte
		if m := swar.Special(swar.Load(d.b, i)); m != 0 {
			i += swar.First(m)
			break
		}
		i += 8
	}
	for ; i < len(d.b); i++ {
		switch c := d.b[i]; {
		case c == '"':
			d.i = i + 1
			return unsafe.String(unsafe.SliceData(d.b[start:]), i-start)
		case c == '\\':
			var s string // rare: let the library unescape
			end := hwStringEnd(d.b[d.i:])
			if json.Unmarshal(d.b[d.i:d.i+end], &s) != nil {
				d.err = true
			}
			d.i += end
			return s
		case c < 0x20:
			d.err = true
			return ""
		}
	}
	d.err = true
	return ""
}

func (d *hwDec) boolean() *bool {
	d.ws()
	switch {
	case bytes.HasPrefix(d.b[d.i:], []byte("true")):
		d.i += 4
		t := true
		return &t
	case bytes.HasPrefix(d.b[d.i:], []byte("false")):
		d.i += 5
		f := false
		return &f
	}
	d.skip()
	return nil
}

func (d *hwDec) integer() int {
	d.ws()
	start := d.i
	d.skip()
	n, err := strconv.Atoi(string(d.b[start:d.i]))
	if err != nil {
		d.err = true
	}
	return n
}

// skip passes over one value, checking its grammar.
func (d *hwDec) skip() {
	d.ws()
	switch c := d.peek(); {
	case c == '"':
		d.str()
	case c == '{':
		d.object(func(string) { d.skip() })
	case c == '[':
		d.array(func() { d.skip() })
	case c == 't', c == 'f':
		d.boolean()
	case c == 'n':
		if !bytes.HasPrefix(d.b[d.i:], []byte("null")) {
			d.err = true
		}
		d.i += 4
	case c == '-' || c >= '0' && c <= '9':
		start := d.i
		for d.i < len(d.b) && strings.IndexByte("0123456789+-.eE", d.b[d.i]) >= 0 {
			d.i++
		}
		if _, err := strconv.ParseFloat(string(d.b[start:d.i]), 64); err != nil {
			d.err = true
		}
	default:
		d.err = true
	}
}

// raw passes over one value and returns it.
func (d *hwDec) raw() []byte {
	d.ws()
	start := d.i
	d.skip()
	return d.b[start:d.i]
}

// object calls member with each key; member must consume the value.
func (d *hwDec) object(member func(key string)) {
	d.expect('{')
	d.ws()
	if d.peek() == '}' {
		d.i++
		return
	}
	for !d.err {
		key := d.str()
		d.expect(':')
		member(key) // consumes the value
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.err = true
		}
	}
}

func (d *hwDec) array(elem func()) {
	d.expect('[')
	d.ws()
	if d.peek() == ']' {
		d.i++
		return
	}
	for !d.err {
		elem()
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return
		default:
			d.err = true
		}
	}
}

func (d *hwDec) strings(into []string) []string {
	if d.ws(); d.peek() == 'n' {
		d.skip()
		return into
	}
	d.array(func() { into = append(into, d.str()) })
	return into
}

var errHWSkip = errors.New("skipped")

// hwMapper holds the buffers the hand-written mapping reuses.
type hwMapper struct {
	a   hwAccount
	out []byte
	cp  hwCopier
}

// mapAuth0 maps one account; the user is valid until the next call.
func (h *hwMapper) mapAuth0(data []byte) ([]byte, error) {
	a := &h.a
	*a = hwAccount{LoginEmails: a.LoginEmails[:0], Verified: a.Verified[:0], Unverified: a.Unverified[:0],
		Identities: a.Identities[:0], Profile: hwProfile{Phones: a.Profile.Phones[:0]}}
	d := hwDec{b: data}
	d.object(func(key string) { h.member(&d, key) })
	if d.ws(); d.err || d.i != len(data) {
		return nil, errors.New("invalid JSON")
	}
	if a.HasLiteAccount && !a.HasFullAccount {
		return nil, errHWSkip
	}
	email := a.Profile.Email
	if strings.TrimSpace(email) == "" && len(a.LoginEmails) > 0 {
		email = a.LoginEmails[0]
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil, errors.New("email required")
	}
	picture, country := a.Profile.PhotoURL, a.Profile.Country
	for pass := range 2 { // the login identity first
		for i := range a.Identities {
			id := &a.Identities[i]
			if id.IsLoginIdentity != (pass == 0) {
				continue
			}
			if picture == "" {
				picture = id.PhotoURL
			}
			if country == "" {
				country = id.Country
			}
		}
	}
	phone := ""
	for _, p := range a.Profile.Phones {
		if strings.EqualFold(p.Type, "mobile") && p.Number != "" {
			phone = p.Number
			break
		}
	}
	if phone == "" {
		for _, p := range a.Profile.Phones {
			if p.Number != "" {
				phone = p.Number
				break
			}
		}
	}
	if phone == "" {
		phone = a.PhoneNumber
	}
	var hash map[string]any
	resetPassword := false
	if a.HasPassword {
		var err error
		if hash, err = passhash.Auth0(a.Password); err != nil {
			hash, resetPassword = nil, true
		}
	}

	b := h.out[:0]
	b = append(b, '{')
	// app_metadata, in key order.
	b = append(b, `"app_metadata":{`...)
	b = hwTimeField(b, `"gigya_created":`, a.Created, false)
	b = hwEmails(b, a.Verified, a.Unverified)
	if len(a.Identities) > 0 {
		b = append(b, `,"gigya_identities":[`...)
		for i := range a.Identities {
			id := &a.Identities[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"login":`...)
			b = strconv.AppendBool(b, id.IsLoginIdentity)
			b = hwString(b, `,"provider":`, id.Provider)
			b = hwString(b, `,"provider_uid":`, id.ProviderUID)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = hwTimeField(b, `,"gigya_last_login":`, a.LastLogin, true)
	b = hwTimeField(b, `,"gigya_last_updated":`, a.LastUpdated, true)
	b = hwString(b, `,"gigya_login_provider":`, a.LoginProvider)
	b = h.cp.field(b, `,"gigya_preferences":`, a.Preferences)
	b = append(b, `,"gigya_registered":`...)
	b = strconv.AppendBool(b, a.IsRegistered != nil && *a.IsRegistered)
	b = h.cp.field(b, `,"gigya_subscriptions":`, a.Subscriptions)
	b = hwString(b, `,"gigya_uid":`, a.UID)
	if resetPassword {
		b = append(b, `,"password_reset_required":true`...)
	}
	b = append(b, `},"blocked":`...)
	b = strconv.AppendBool(b, a.IsActive != nil && !*a.IsActive)
	if hash != nil {
		b = append(b, `,"custom_password_hash":`...)
		b = hwObject(b, hash)
	}
	b = hwString(b, `,"email":`, email)
	b = append(b, `,"email_verified":`...)
	b = strconv.AppendBool(b, a.IsVerified != nil && *a.IsVerified)
	first, last := strings.TrimSpace(a.Profile.FirstName), strings.TrimSpace(a.Profile.LastName)
	b = hwString(b, `,"family_name":`, a.Profile.LastName)
	b = hwString(b, `,"given_name":`, a.Profile.FirstName)
	switch {
	case first != "" && last != "":
		b = append(b, `,"name":`...)
		b = hwQuote(b, first+" "+last)
	default:
		b = hwString(b, `,"name":`, first+last)
	}
	b = hwString(b, `,"nickname":`, a.Profile.Nickname)
	if strings.HasPrefix(phone, "+") {
		digits := make([]byte, 0, 16)
		digits = append(digits, '+')
		for i := 1; i < len(phone); i++ {
			if c := phone[i]; c >= '0' && c <= '9' {
				digits = append(digits, c)
			}
		}
		b = append(b, `,"phone_number":`...)
		b = hwQuote(b, string(digits))
	}
	b = hwString(b, `,"picture":`, picture)
	b = hwString(b, `,"user_id":`, a.UID)
	// user_metadata, in key order, left out when empty.
	mark := len(b)
	b = append(b, `,"user_metadata":{`...)
	inner := len(b)
	if a.Profile.BirthYear > 0 && a.Profile.BirthMon > 0 && a.Profile.BirthDay > 0 {
		b = append(b, `,"birthdate":"`...)
		b = hwPad(b, a.Profile.BirthYear, 4)
		b = append(b, '-')
		b = hwPad(b, a.Profile.BirthMon, 2)
		b = append(b, '-')
		b = hwPad(b, a.Profile.BirthDay, 2)
		b = append(b, '"')
	}
	b = hwString(b, `,"city":`, a.Profile.City)
	if len(country) == 2 {
		b = append(b, `,"country":"`...)
		b = append(b, strings.ToUpper(country)...)
		b = append(b, '"')
	}
	switch a.Profile.Gender {
	case "m":
		b = append(b, `,"gender":"male"`...)
	case "f":
		b = append(b, `,"gender":"female"`...)
	}
	b = h.cp.field(b, `,"gigya_data":`, a.Data)
	if a.Profile.Locale != "" {
		b = append(b, `,"locale":`...)
		b = hwQuote(b, strings.ReplaceAll(a.Profile.Locale, "_", "-"))
	}
	if len(b) == inner {
		b = b[:mark]
	} else {
		b[inner] = '{' // the first member's comma
		b = append(b[:inner-1], b[inner:]...)
		b = append(b, '}')
	}
	b = append(b, '}')
	h.out = b
	return b, nil
}

// member decodes one top-level member the mapping needs, or skips it.
func (h *hwMapper) member(d *hwDec, key string) {
	a := &h.a
	switch key {
	case "UID":
		a.UID = d.str()
	case "created":
		a.Created = d.str()
	case "lastLogin":
		a.LastLogin = d.str()
	case "lastUpdated":
		a.LastUpdated = d.str()
	case "loginProvider":
		a.LoginProvider = d.str()
	case "phoneNumber":
		a.PhoneNumber = d.str()
	case "isVerified":
		a.IsVerified = d.boolean()
	case "isActive":
		a.IsActive = d.boolean()
	case "isRegistered":
		a.IsRegistered = d.boolean()
	case "hasLiteAccount":
		a.HasLiteAccount = hwTrue(d.boolean())
	case "hasFullAccount":
		a.HasFullAccount = hwTrue(d.boolean())
	case "loginIDs":
		d.object(func(k string) {
			if k == "emails" {
				a.LoginEmails = d.strings(a.LoginEmails)
				return
			}
			d.skip()
		})
	case "emails":
		d.object(func(k string) {
			switch k {
			case "verified":
				a.Verified = d.strings(a.Verified)
			case "unverified":
				a.Unverified = d.strings(a.Unverified)
			default:
				d.skip()
			}
		})
	case "profile":
		p := &a.Profile
		d.object(func(k string) {
			switch k {
			case "email":
				p.Email = d.str()
			case "firstName":
				p.FirstName = d.str()
			case "lastName":
				p.LastName = d.str()
			case "nickname":
				p.Nickname = d.str()
			case "photoURL":
				p.PhotoURL = d.str()
			case "country":
				p.Country = d.str()
			case "city":
				p.City = d.str()
			case "locale":
				p.Locale = d.str()
			case "gender":
				p.Gender = d.str()
			case "birthYear":
				p.BirthYear = d.integer()
			case "birthMonth":
				p.BirthMon = d.integer()
			case "birthDay":
				p.BirthDay = d.integer()
			case "phones":
				d.array(func() {
					var ph hwPhone
					d.object(func(k string) {
						switch k {
						case "type":
							ph.Type = d.str()
						case "number":
							ph.Number = d.str()
						default:
							d.skip()
						}
					})
					p.Phones = append(p.Phones, ph)
				})
			default:
				d.skip()
			}
		})
	case "identities":
		d.array(func() {
			var id hwIdentity
			d.object(func(k string) {
				switch k {
				case "provider":
					id.Provider = d.str()
				case "providerUID":
					id.ProviderUID = d.str()
				case "photoURL":
					id.PhotoURL = d.str()
				case "country":
					id.Country = d.str()
				case "isLoginIdentity":
					id.IsLoginIdentity = hwTrue(d.boolean())
				default:
					d.skip()
				}
			})
			a.Identities = append(a.Identities, id)
		})
	case "subscriptions":
		a.Subscriptions = d.raw()
	case "preferences":
		a.Preferences = d.raw()
	case "data":
		a.Data = d.raw()
	case "password":
		pw := &a.Password
		d.object(func(k string) {
			switch k {
			case "hash":
				pw.Hash = d.str()
			case "compoundHash":
				pw.CompoundHash = d.str()
			case "hashSettings":
				d.object(func(k string) {
					switch k {
					case "algorithm":
						pw.Algorithm = strings.ToLower(strings.TrimSpace(d.str()))
					case "rounds":
						pw.Rounds = d.integer()
					case "salt":
						pw.Salt = d.str()
					case "format":
						pw.Format = d.str()
					case "binaryFormat":
						pw.BinaryFormat = d.str()
					default:
						d.skip()
					}
				})
			default:
				d.skip()
			}
		})
		a.HasPassword = pw.Hash != "" || pw.CompoundHash != ""
	default:
		d.skip()
	}
}

func hwTrue(b *bool) bool { return b != nil && *b }

// hwString appends `key"value"` unless the value is empty.
func hwString(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return hwQuote(append(b, key...), v)
}

// hwTimeField appends an RFC 3339 time in UTC with milliseconds; the first
// member of an object has no comma, so key may come without one.
func hwTimeField(b []byte, key, s string, _ bool) []byte {
	if s == "" {
		return b
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return b
	}
	b = append(b, key...)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

func hwEmails(b []byte, verified, unverified []string) []byte {
	if len(verified)+len(unverified) == 0 {
		return b
	}
	b = append(b, `,"gigya_emails":{`...)
	list := func(b []byte, key string, l []string) []byte {
		b = append(b, key...)
		for i, e := range l {
			if i > 0 {
				b = append(b, ',')
			}
			b = hwQuote(b, strings.ToLower(strings.TrimSpace(e)))
		}
		return append(b, ']')
	}
	if len(unverified) > 0 {
		b = list(b, `"unverified":[`, unverified)
		if len(verified) > 0 {
			b = append(b, ',')
		}
	}
	if len(verified) > 0 {
		b = list(b, `"verified":[`, verified)
	}
	return append(b, '}')
}

// hwObject appends the password converter's small object, keys sorted.
func hwObject(b []byte, m map[string]any) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = hwQuote(b, k)
		b = append(b, ':')
		switch v := m[k].(type) {
		case string:
			b = hwQuote(b, v)
		case map[string]any:
			b = hwObject(b, v)
		default:
			b, _ = json.Append(b, v, json.EscapeHTML|json.SortMapKeys)
		}
	}
	return append(b, '}')
}

func hwPad(b []byte, n, width int) []byte {
	start := len(b)
	b = strconv.AppendInt(b, int64(n), 10)
	for len(b)-start < width {
		b = append(b[:start+1], b[start:]...)
		b[start] = '0'
	}
	return b
}

// hwCopier copies a subtree from the raw JSON as the users hold it: keys
// sorted, nulls, "" and empty arrays and objects left out at any depth.
type hwCopier struct {
	members []hwMember
}

type hwMember struct {
	key string
	val []byte
}

// field appends key and the copy of raw, or nothing when it is empty.
func (c *hwCopier) field(b []byte, key string, raw []byte) []byte {
	if len(raw) == 0 {
		return b
	}
	mark := len(b)
	b = append(b, key...)
	out, empty := c.value(b, raw)
	if empty {
		return b[:mark]
	}
	return out
}

// value appends the copy of one JSON value (raw starts with it).
func (c *hwCopier) value(b, raw []byte) ([]byte, bool) {
	switch raw[0] {
	case '{':
		base := len(c.members)
		rest := raw[1:]
		for {
			rest = hwSpace(rest)
			if rest[0] == '}' {
				break
			}
			if rest[0] == ',' {
				rest = hwSpace(rest[1:])
			}
			kEnd := hwStringEnd(rest)
			key := unsafe.String(&rest[1], kEnd-2)
			rest = hwSpace(hwSpace(rest[kEnd:])[1:])
			n := hwValueEnd(rest)
			c.members = append(c.members, hwMember{key, rest[:n]})
			rest = rest[n:]
		}
		ms := c.members[base:]
		slices.SortStableFunc(ms, func(x, y hwMember) int { return strings.Compare(x.key, y.key) })
		start := len(b)
		b = append(b, '{')
		n := 0
		for i := range ms {
			mark := len(b)
			if n > 0 {
				b = append(b, ',')
			}
			b = hwQuote(b, ms[i].key)
			b = append(b, ':')
			var empty bool
			if b, empty = c.value(b, ms[i].val); empty {
				b = b[:mark]
				continue
			}
			n++
		}
		c.members = c.members[:base]
		if n == 0 {
			return b[:start], true
		}
		return append(b, '}'), false
	case '[':
		start := len(b)
		b = append(b, '[')
		n := 0
		rest := raw[1:]
		for {
			rest = hwSpace(rest)
			if rest[0] == ']' {
				break
			}
			if rest[0] == ',' {
				rest = hwSpace(rest[1:])
			}
			end := hwValueEnd(rest)
			mark := len(b)
			if n > 0 {
				b = append(b, ',')
			}
			var empty bool
			if b, empty = c.value(b, rest[:end]); empty {
				b = b[:mark]
			} else {
				n++
			}
			rest = rest[end:]
		}
		if n == 0 {
			return b[:start], true
		}
		return append(b, ']'), false
	case '"':
		end := hwStringEnd(raw)
		if end == 2 {
			return b, true
		}
		return hwQuote(b, unsafe.String(&raw[1], end-2)), false
	case 'n':
		return b, true
	}
	return append(b, raw[:hwValueEnd(raw)]...), false // numbers and booleans as written
}

func hwSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// hwStringEnd is the length of the string b starts with, quotes included.
func hwStringEnd(b []byte) int {
	i := 1
	for i+8 <= len(b) { // eight bytes at a time up to a quote, backslash or control byte
		if m := swar.Special(swar.Load(b, i)); m != 0 {
			i += swar.First(m)
			break
		}
		i += 8
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// hwValueEnd is the length of the value b starts with.
func hwValueEnd(b []byte) int {
	switch b[0] {
	case '"':
		return hwStringEnd(b)
	case '{', '[':
		depth := 0
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				i += hwStringEnd(b[i:]) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	i := 0
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' {
		i++
	}
	return i
}

func benchRecords(n int) [][]byte {
	g := sample.New(5, sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.Next().JSON
	}
	return out
}

// TestHandWrittenReferenceMatches makes the benchmark honest: on the
// generated records the hand-written mapping writes exactly the users the
// expr mapping writes, byte for byte.
func TestHandWrittenReferenceMatches(t *testing.T) {
	m, err := loadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	rm := &recordMapper{ev: m.NewEvaluator()}
	var hw hwMapper
	compared := 0
	for _, rec := range benchRecords(2000) {
		got, hwErr := hw.mapAuth0(rec)
		want, err := rm.mapRecord(rec)
		if (err != nil || want.Skip != "") != (hwErr != nil) {
			t.Fatalf("outcomes differ: expr %v/%q, hand-written %v\n%s", err, want.Skip, hwErr, rec)
		}
		if hwErr != nil {
			continue
		}
		if string(got) != string(want.Outputs[0]) {
			t.Fatalf("users differ for\n%s\nhand-written %s\nexpr         %s", rec, got, want.Outputs[0])
		}
		compared++
	}
	t.Logf("%d users identical", compared)
}

// BenchmarkMapAuth0 compares, in one run, per generated record:
//
//   - expr: configs/auth0.yaml by the mapping engine (MapRecord: the
//     record's bytes in, the user's JSON out);
//   - expr+validate: the same with the Auth0 validation the transformer
//     runs;
//   - expr-maps+validate: what the transformer did before the record engine
//     (7acc1d6: decode to maps, evaluate, validate, json.Marshal), for the
//     before/after of allocs/op in one run;
//   - handwritten: the floor, the same mapping written by hand as the
//     fastest plain Go we could (see hwMapper).
//
// Besides ns/op (wall clock) each reports cpu-ns/op, the process's CPU time
// (user+system) per record over the measured loop: on a machine shared with
// other work, time spent waiting for a core counts in the first only, and
// the report's ratios use the second.
func BenchmarkMapAuth0(b *testing.B) {
	recs := benchRecords(1000)
	m, err := loadMapping("")
	if err != nil {
		b.Fatal(err)
	}
	v, err := validatorFor(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("expr", func(b *testing.B) {
		rm := &recordMapper{ev: m.NewEvaluator()}
		benchLoop(b, recs, func(r []byte) { _, _ = rm.mapRecord(r) })
	})
	b.Run("expr+validate", func(b *testing.B) {
		rm := &recordMapper{ev: m.NewEvaluator().WithValidator(v)}
		benchLoop(b, recs, func(r []byte) { _, _ = rm.mapRecord(r) })
	})
	b.Run("expr-maps+validate", func(b *testing.B) {
		ev := m.NewEvaluator()
		benchLoop(b, recs, func(r []byte) { _ = referenceRecord(ev, v, r) })
	})
	b.Run("handwritten", func(b *testing.B) {
		var hw hwMapper
		benchLoop(b, recs, func(r []byte) { _, _ = hw.mapAuth0(r) })
	})
	b.Run("expr-vs-handwritten", func(b *testing.B) {
		rm := &recordMapper{ev: m.NewEvaluator()}
		var hw hwMapper
		benchPaired(b, recs,
			func(r []byte) { _, _ = rm.mapRecord(r) },
			func(r []byte) { _, _ = hw.mapAuth0(r) })
	})
}

// pairedRound is how many records each side of benchPaired maps in a turn:
// tens of milliseconds, short against the drifts of a shared machine's
// speed, long against a collection's cost.
const pairedRound = 2000

// benchPaired compares two mappers on a machine whose speed drifts: they
// take turns of pairedRound records, each turn starting after a collection
// (left out of the timing) so that each side's garbage is collected in its
// own turns, and the CPU time of each side is summed over the turns. One
// b.N is one turn of each. It reports both sides' CPU ns per record and
// their ratio a/b.
func benchPaired(b *testing.B, recs [][]byte, a, bfn func([]byte)) {
	var cpuA, cpuB time.Duration
	i, turns := 0, 0
	turn := func(fn func([]byte)) time.Duration {
		runtime.GC()
		c0 := processCPU()
		for range pairedRound {
			fn(recs[i%len(recs)])
			i++
		}
		return processCPU() - c0
	}
	for b.Loop() {
		if turns%2 == 0 { // alternate which side goes first
			cpuA += turn(a)
			cpuB += turn(bfn)
		} else {
			cpuB += turn(bfn)
			cpuA += turn(a)
		}
		turns++
	}
	n := float64(turns * pairedRound)
	b.ReportMetric(float64(cpuA)/n, "a-cpu-ns/record")
	b.ReportMetric(float64(cpuB)/n, "b-cpu-ns/record")
	b.ReportMetric(float64(cpuA)/float64(cpuB), "ratio")
}

// benchLoop runs fn over the records, cycling, and reports cpu-ns/op.
func benchLoop(b *testing.B, recs [][]byte, fn func([]byte)) {
	i := 0
	cpu0 := processCPU()
	for b.Loop() {
		fn(recs[i%len(recs)])
		i++
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the user+system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hwQuote appends s as a JSON string as json.Marshal writes it: plain
// ASCII (nothing to escape, HTML characters included) is copied between
// quotes, checked eight bytes at a time; anything else goes to the library.
func hwQuote(b []byte, s string) []byte {
	if !swar.PlainString(s) {
		return json.AppendEscape(b, s, json.EscapeHTML)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
