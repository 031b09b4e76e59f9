package mapfunc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

const (
	// secondsBelow is the epoch heuristic: a number whose absolute value is
	// below it is seconds, anything else milliseconds. Gigya mixes both
	// (createdTimestamp is milliseconds, identities[].lastLoginTime is
	// seconds). 1e11 seconds is the year 5138 and 1e11 milliseconds is
	// 1973-03-03, so the two ranges cannot meet for any date an account can
	// have (Gigya did not exist before 2006).
	secondsBelow = 1e11

	// The range of times RFC 3339 can write (a four-digit year), in Unix
	// milliseconds: 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z.
	minMs = -62135596800000
	maxMs = 253402300799999

	// gigyaLayout is the output format: Gigya's own, RFC 3339 in UTC with
	// exactly three fraction digits. It is also what Auth0 and LoginRadius
	// accept for dates.
	gigyaLayout = "2006-01-02T15:04:05.000Z"
)

// timeLayouts are the string forms gigya_time accepts, tried in order, all
// parsed in UTC so a string without an offset is UTC (as the engine's date()
// does). Fractional seconds are accepted after the seconds by every layout
// (Go's parser allows them even when the layout has none).
var timeLayouts = [...]string{
	time.RFC3339,                // 2019-03-14T09:26:53.589Z, +01:00
	"2006-01-02T15:04:05Z0700",  // +0100 (ISO 8601 basic offset)
	"2006-01-02 15:04:05Z07:00", // space instead of T (RFC 3339 allows it)
	"2006-01-02 15:04:05Z0700",
	"2006-01-02T15:04:05", // no offset: UTC
	"2006-01-02 15:04:05",
	"2006-01-02", // date only: midnight UTC
}

func gigyaTime(params ...any) (any, error) {
	v := arg(params, 0)
	ms, ok, err := epochMs("gigya_time", v)
	if !ok || err != nil {
		return nil, err
	}
	// Most Gigya timestamps are already canonical: return the valid input
	// instead of formatting a copy of it.
	if s, isString := v.(string); isString && canonicalShape(s) {
		return v, nil // the argument as it came, not boxed again
	}
	var buf [32]byte
	return string(time.UnixMilli(ms).UTC().AppendFormat(buf[:0], gigyaLayout)), nil
}

// canonicalShape reports whether s is laid out exactly as gigyaLayout
// writes it (digits where the layout has digits). Whether those digits form
// a valid time is for the parser to say.
func canonicalShape(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd.dddZ"
	if len(s) != len(shape) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if shape[i] == 'd' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		} else if s[i] != shape[i] {
			return false
		}
	}
	return true
}

func gigyaEpochMs(params ...any) (any, error) {
	ms, ok, err := epochMs("gigya_epoch_ms", arg(params, 0))
	if !ok || err != nil {
		return nil, err
	}
	return ms, nil
}

func gigyaEpochS(params ...any) (any, error) {
	ms, ok, err := epochMs("gigya_epoch_s", arg(params, 0))
	if !ok || err != nil {
		return nil, err
	}
	// Round down, also before 1970, as time.Time.Unix does.
	s := ms / 1000
	if ms%1000 < 0 {
		s--
	}
	return s, nil
}

// epochMs reads v as an instant and returns it in Unix milliseconds
// (sub-millisecond precision is dropped, rounding down). ok is false, with a
// nil error, for nil and a blank string.
func epochMs(name string, v any) (ms int64, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case string:
		return epochFromString(name, x)
	case json.Number: // also segmentio's json.Number, an alias
		return epochFromString(name, string(x))
	case time.Time: // the engine's date() and now()
		return checkRange(name, x.UnixMilli())
	case float64:
		return epochFromFloat(name, x)
	case float32:
		return epochFromFloat(name, float64(x))
	}
	if n, isInt := intValue(v); isInt {
		return epochFromInt(name, n)
	}
	if isNumber(v) { // an unsigned value beyond int64
		return 0, false, fmt.Errorf("%s: %v is out of range", name, v)
	}
	return 0, false, typeError(name, "a time string or an epoch number", v)
}

func epochFromString(name, s string) (int64, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, nil
	}
	switch numericKind(s) {
	case numInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("%s: %s is out of range", name, quote(s))
		}
		return epochFromInt(name, n)
	case numFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false, fmt.Errorf("%s: %s is out of range", name, quote(s))
		}
		return epochFromFloat(name, f)
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return checkRange(name, t.UnixMilli())
		}
	}
	return 0, false, fmt.Errorf("%s: cannot read %s as a time (want RFC 3339 like 2019-03-14T09:26:53.589Z, or an epoch number)", name, quote(s))
}

func epochFromInt(name string, n int64) (int64, bool, error) {
	if n > -secondsBelow && n < secondsBelow {
		n *= 1000 // |n| < 1e11: no overflow
	}
	return checkRange(name, n)
}

func epochFromFloat(name string, f float64) (int64, bool, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, fmt.Errorf("%s: %v is not a time", name, f)
	}
	if math.Abs(f) < secondsBelow {
		f *= 1000
	}
	// Round, not truncate: 1700000000.123 * 1000 is 1700000000122.9998 in
	// binary floating point.
	f = math.Round(f)
	if f < minMs || f > maxMs {
		return 0, false, errOutOfRange(name)
	}
	return int64(f), true, nil
}

func checkRange(name string, ms int64) (int64, bool, error) {
	if ms < minMs || ms > maxMs {
		return 0, false, errOutOfRange(name)
	}
	return ms, true, nil
}

func errOutOfRange(name string) error {
	return errors.New(name + ": out of range (years 1 to 9999)")
}

// numeric kinds of a string, see numericKind.
const (
	numNone = iota
	numInt
	numFloat
)

// numericKind classifies s as an optionally signed run of ASCII digits
// (numInt), the same with one decimal point between digits (numFloat), or
// anything else. It is stricter than strconv.ParseFloat on purpose: "Inf",
// "1e5", "0x1p3" and "1_000" are not epochs.
func numericKind(s string) int {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	kind, digits := numInt, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && kind == numInt && digits > 0 && i+1 < len(s):
			kind = numFloat
		default:
			return numNone
		}
	}
	if digits == 0 {
		return numNone
	}
	return kind
}
