package filesource

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
)

// account returns a realistic Gigya account (see docs/apis/gigya.md,
// "Example account") of about 1.5 KB, compact or pretty-printed with the
// given indent.
func account(i int, indent string) []byte {
	a := fmt.Sprintf(`{"UID":"uid-%08d","created":"2019-03-14T09:26:53.589Z","createdTimestamp":1552555613589,`+
		`"lastUpdated":"2024-02-01T10:00:00.000Z","lastUpdatedTimestamp":1706781600000,"isActive":true,"isRegistered":true,"isVerified":true,`+
		`"loginProvider":"site","socialProviders":"facebook,site","regSource":"https://www.example.com/register",`+
		`"loginIDs":{"emails":["user%d@example.com"],"unverifiedEmails":[]},"emails":{"verified":["user%d@example.com"],"unverified":[]},`+
		`"profile":{"email":"user%d@example.com","firstName":"Jane","lastName":"Doe \"JD\" \\ Müller","gender":"f","birthDay":12,"birthMonth":5,"birthYear":1988,`+
		`"country":"DE","city":"Berlin","zip":"10115","phones":[{"type":"mobile","number":"+4915112345678"}],"locale":"de_DE"},`+
		`"data":{"loyaltyId":"L-%06d","tags":[1,2.5,-3e2,null,false]},`+
		`"identities":[{"provider":"site","providerUID":"uid-%08d","isLoginIdentity":true,"allowsLogin":true,"email":"user%d@example.com"},`+
		`{"provider":"facebook","providerUID":"1234567890","isLoginIdentity":false,"lastLoginTime":1700000000}],`+
		`"password":{"created":"2024-01-28T17:20:31.188Z","hash":"89v2METlSkX2LKWSQGHCdE4iUkE=",`+
		`"hashSettings":{"algorithm":"pbkdf2_sha512","rounds":10000,"salt":"YWJjc29tZXRoaW5n=="}}}`,
		i, i, i, i, i, i, i)
	if indent == "" {
		return []byte(a)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(a), "", indent); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// got is a Record reduced to what the tables compare.
type got struct {
	Data string
	Line int
	Off  int64
	Err  error // compared with errors.Is
}

func (g got) String() string {
	return fmt.Sprintf("{%q line %d off %d err %v}", g.Data, g.Line, g.Off, g.Err)
}

// readAll reads input with ReadFrom and checks the invariants every record
// must meet against plain, the decompressed input: a good record's Data is
// the very slice of the input at its offset and a valid JSON object, its line
// is the line of that offset, and bad data is capped.
func readAll(t testing.TB, name string, input, plain []byte) ([]Record, error) {
	t.Helper()
	var recs []Record
	err := ReadFrom(context.Background(), name, bytes.NewReader(input), func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	for _, r := range recs {
		checkRecord(t, plain, r)
	}
	return recs, err
}

func checkRecord(t testing.TB, plain []byte, r Record) {
	t.Helper()
	if len(r.Data) > maxBadData && r.Err != nil {
		t.Errorf("%v: bad record holds %d bytes, more than the cap", r.Origin, len(r.Data))
	}
	off := r.Origin.Offset
	if off < 0 || off > int64(len(plain)) {
		t.Fatalf("%v: offset outside the input (%d bytes)", r.Origin, len(plain))
	}
	if wantLine := 1 + bytes.Count(plain[:off], []byte{'\n'}); r.Origin.Line != wantLine {
		t.Errorf("%v: line %d, but offset %d is on line %d", r.Origin, r.Origin.Line, off, wantLine)
	}
	if r.Err != nil {
		if len(r.Data) > 0 && !bytes.HasPrefix(plain[off:], r.Data) {
			t.Errorf("%v: bad Data %q is not the input at its offset", r.Origin, r.Data)
		}
		return
	}
	if !bytes.HasPrefix(plain[off:], r.Data) {
		t.Errorf("%v: Data %q is not the input at its offset", r.Origin, r.Data)
	}
	if len(r.Data) == 0 || r.Data[0] != '{' || !json.Valid(r.Data) {
		t.Errorf("%v: Data %q is not a valid JSON object", r.Origin, r.Data)
	}
	// The key members found while validating give the key a full read does.
	got, gotErr := gigya.IdentifyMembers(r.Key, r.Data)
	want, wantErr := gigya.Identify(r.Data)
	if got != want || (gotErr == nil) != (wantErr == nil) {
		t.Errorf("%v: key %+v (%v) from the members %q; reading the account gives %+v (%v)", r.Origin, got, gotErr, r.Key, want, wantErr)
	}
}

func simplify(recs []Record) []got {
	out := make([]got, len(recs))
	for i, r := range recs {
		out[i] = got{Data: string(r.Data), Line: r.Origin.Line, Off: r.Origin.Offset, Err: r.Err}
	}
	return out
}

// sameRecords compares records; a want Err matches when errors.Is holds.
func sameRecords(t *testing.T, recs []Record, want []got) {
	t.Helper()
	g := simplify(recs)
	ok := len(g) == len(want)
	for i := 0; ok && i < len(g); i++ {
		w := want[i]
		ok = g[i].Data == w.Data && g[i].Line == w.Line && g[i].Off == w.Off &&
			(w.Err == nil) == (g[i].Err == nil) && (w.Err == nil || isErr(g[i].Err, w.Err))
	}
	if !ok {
		t.Errorf("records\n got  %v\n want %v", g, want)
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }

// pipeOf streams gen's output through an io.Pipe so that the input is never
// held whole.
func pipeOf(gen func(w io.Writer) error) io.Reader {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen(pw)) }()
	return pr
}
