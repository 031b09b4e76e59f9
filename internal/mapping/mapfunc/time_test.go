package mapfunc

import (
	stdjson "encoding/json"
	"testing"
	"time"
)

func TestGigyaTime(t *testing.T) {
	runCases(t, []tc{
		// The account's own forms.
		{src: `gigya_time(created)`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time(createdTimestamp)`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time(identities[1].lastLoginTime)`, want: "2023-11-14T22:13:20.000Z"},
		{src: `gigya_time(identities[0].oldestDataUpdated)`, want: "2019-03-14T09:26:53.589Z"},
		// ISO / RFC 3339 variants.
		{src: `gigya_time("2019-03-14T09:26:53Z")`, want: "2019-03-14T09:26:53.000Z"},
		{src: `gigya_time("2019-03-14T09:26:53.5Z")`, want: "2019-03-14T09:26:53.500Z"},
		{src: `gigya_time("2019-03-14T09:26:53.589999999Z")`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time("2019-03-14T10:26:53.589+01:00")`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time("2019-03-14T04:26:53.589-05:00")`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time("2019-03-14T10:26:53.589+0100")`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time("2019-03-14 09:26:53.589Z")`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time("2019-03-14T09:26:53.589")`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time("2019-03-14 09:26:53")`, want: "2019-03-14T09:26:53.000Z"},
		{src: `gigya_time("2019-03-14")`, want: "2019-03-14T00:00:00.000Z"},
		{src: `gigya_time("  2019-03-14T09:26:53.589Z\n")`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time("2019-03-14T00:30:00+01:00")`, want: "2019-03-13T23:30:00.000Z"},
		// Numbers and numeric strings.
		{src: `gigya_time(1552555613589)`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time("1552555613589")`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time(1552555613)`, want: "2019-03-14T09:26:53.000Z"},
		{src: `gigya_time("1552555613")`, want: "2019-03-14T09:26:53.000Z"},
		{src: `gigya_time(1552555613.589)`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time("1700000000.123")`, want: "2023-11-14T22:13:20.123Z"},
		{src: `gigya_time(1552555613589.0)`, want: "2019-03-14T09:26:53.589Z"},
		{src: `gigya_time(0)`, want: "1970-01-01T00:00:00.000Z"},
		{src: `gigya_time(-1)`, want: "1969-12-31T23:59:59.000Z"},
		{src: `gigya_time(99999999999)`, want: "5138-11-16T09:46:39.000Z"},     // largest seconds
		{src: `gigya_time(100000000000)`, want: "1973-03-03T09:46:40.000Z"},    // smallest ms
		{src: `gigya_time(253402300799999)`, want: "9999-12-31T23:59:59.999Z"}, // last RFC 3339 ms
		{src: `gigya_time(date("2019-03-14T09:26:53.589Z"))`, want: "2019-03-14T09:26:53.589Z"},
		// Absent.
		{src: `gigya_time(nil)`, want: nil},
		{src: `gigya_time(missing)`, want: nil},
		{src: `gigya_time(profile?.nothing)`, want: nil},
		{src: `gigya_time("")`, want: nil},
		{src: `gigya_time("   ")`, want: nil},
		// Errors.
		{src: `gigya_time("yesterday")`, wantErr: `gigya_time: cannot read "yesterday" as a time`},
		{src: `gigya_time("2019-02-30T00:00:00Z")`, wantErr: "cannot read"},
		{src: `gigya_time("2019-03-14T25:00:00Z")`, wantErr: "cannot read"},
		{src: `gigya_time("14.03.2019")`, wantErr: "cannot read"},
		{src: `gigya_time("1e12")`, wantErr: "cannot read"},
		{src: `gigya_time("NaN")`, wantErr: "cannot read"},
		{src: `gigya_time("-")`, wantErr: "cannot read"},
		{src: `gigya_time("1.")`, wantErr: "cannot read"},
		{src: `gigya_time(253402300800000)`, wantErr: "out of range"},
		{src: `gigya_time(-62135596800001)`, wantErr: "out of range"},
		{src: `gigya_time(-99999999999)`, wantErr: "out of range"}, // seconds, year -1199
		{src: `gigya_time(-62135596800)`, want: "0001-01-01T00:00:00.000Z"},
		{src: `gigya_time("99999999999999999999")`, wantErr: "out of range"},
		{src: `gigya_time(1e300)`, wantErr: "out of range"},
		{src: `gigya_time(true)`, wantErr: "gigya_time: want a time string or an epoch number, got a boolean"},
		{src: `gigya_time(profile)`, wantErr: "got an object"},
		{src: `gigya_time(loginIDs.emails)`, wantErr: "got an array"},
	})
}

func TestGigyaEpoch(t *testing.T) {
	runCases(t, []tc{
		{src: `gigya_epoch_ms(created)`, want: int64(1552555613589)},
		{src: `gigya_epoch_ms(createdTimestamp)`, want: int64(1552555613589)},
		{src: `gigya_epoch_ms(identities[1].lastLoginTime)`, want: int64(1700000000000)},
		{src: `gigya_epoch_ms("1552555613589")`, want: int64(1552555613589)},
		{src: `gigya_epoch_ms("2019-03-14T10:26:53.589+01:00")`, want: int64(1552555613589)},
		{src: `gigya_epoch_ms(nil)`, want: nil},
		{src: `gigya_epoch_ms("")`, want: nil},
		{src: `gigya_epoch_ms("soon")`, wantErr: `gigya_epoch_ms: cannot read "soon"`},
		{src: `gigya_epoch_ms({})`, wantErr: "gigya_epoch_ms: want a time string or an epoch number, got an object"},

		{src: `gigya_epoch_s(created)`, want: int64(1552555613)},
		{src: `gigya_epoch_s(createdTimestamp)`, want: int64(1552555613)},
		{src: `gigya_epoch_s(identities[1].lastLoginTime)`, want: int64(1700000000)},
		{src: `gigya_epoch_s("1969-12-31T23:59:59.500Z")`, want: int64(-1)}, // rounds down
		{src: `gigya_epoch_s(-1500)`, want: int64(-1500)},                   // seconds already
		{src: `gigya_epoch_s(nil)`, want: nil},
		{src: `gigya_epoch_s("x")`, wantErr: `gigya_epoch_s: cannot read "x"`},
	})
}

// The helpers take the Go types a decoder or an expr expression can produce,
// not only int64 and float64.
func TestGigyaTimeGoTypes(t *testing.T) {
	want := "2019-03-14T09:26:53.000Z"
	for _, v := range []any{
		int64(1552555613), int(1552555613), int32(1552555613), uint32(1552555613), uint64(1552555613),
		float64(1552555613), stdjson.Number("1552555613"),
		time.Date(2019, 3, 14, 10, 26, 53, 0, time.FixedZone("CET", 3600)),
	} {
		got, err := gigyaTime(v)
		if err != nil || got != want {
			t.Errorf("%T %v: got %v, %v", v, v, got, err)
		}
	}
	if _, err := gigyaTime(uint64(1 << 63)); err == nil {
		t.Error("uint64 beyond int64: want an error")
	}
	// A call with too few arguments (impossible through expr) is nil, not a
	// panic.
	if got, err := gigyaTime(); got != nil || err != nil {
		t.Errorf("no args: %v, %v", got, err)
	}
}

// The output of gigya_time is its own canonical input.
func TestGigyaTimeIdempotent(t *testing.T) {
	for _, in := range []any{"2019-03-14T10:26:53.589+01:00", int64(1700000000), "2019-03-14"} {
		once, err := gigyaTime(in)
		if err != nil {
			t.Fatal(err)
		}
		twice, err := gigyaTime(once)
		if err != nil || twice != once {
			t.Errorf("%v: %v then %v, %v", in, once, twice, err)
		}
	}
}
