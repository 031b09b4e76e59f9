package mapfunc

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

func coalesce(params ...any) (any, error) {
	for _, p := range params {
		if !IsEmpty(p) {
			return p, nil
		}
	}
	return nil, nil
}

func joinName(params ...any) (any, error) {
	first, err := text("join_name", arg(params, 0))
	if err != nil {
		return nil, err
	}
	last, err := text("join_name", arg(params, 1))
	if err != nil {
		return nil, err
	}
	switch {
	case first == "" && last == "":
		return nil, nil
	case last == "":
		return first, nil
	case first == "":
		return last, nil
	}
	return first + " " + last, nil
}

func joinNonempty(params ...any) (any, error) {
	const name = "join_nonempty"
	sep := ""
	switch s := arg(params, 0).(type) {
	case nil:
	case string:
		sep = s
	default:
		return nil, typeError(name+": separator", "a string", s)
	}
	var b strings.Builder
	for _, p := range params[min(1, len(params)):] {
		// Arrays are expanded one level, so a Gigya list can be joined
		// directly: join_nonempty(", ", loginIDs.emails).
		if list, ok := p.([]any); ok {
			for _, e := range list {
				s, err := text(name, e)
				if err != nil {
					return nil, err
				}
				appendPart(&b, sep, s)
			}
			continue
		}
		s, err := text(name, p)
		if err != nil {
			return nil, err
		}
		appendPart(&b, sep, s)
	}
	return builderResult(&b), nil
}

func appendPart(b *strings.Builder, sep, s string) {
	if s == "" {
		return
	}
	if b.Len() > 0 {
		b.WriteString(sep)
	}
	b.WriteString(s)
}

func builderResult(b *strings.Builder) any {
	if b.Len() == 0 {
		return nil
	}
	return b.String()
}

// text renders a scalar for joining: a string trimmed, a number in its
// shortest decimal form, nil as "". Booleans, objects and arrays are errors:
// joining them into a name or an address is a mapping mistake.
func text(name string, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(x), nil
	case float64:
		return floatText(name, x)
	case float32:
		return floatText(name, float64(x))
	}
	if n, ok := intValue(v); ok {
		return strconv.FormatInt(n, 10), nil
	}
	if isNumber(v) { // an unsigned value beyond int64
		return fmt.Sprint(v), nil
	}
	return "", typeError(name, "text or a number", v)
}

func floatText(name string, f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("%s: %v is not a number that can be written", name, f)
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

func toBool(params ...any) (any, error) {
	const name = "to_bool"
	switch x := arg(params, 0).(type) {
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		switch strings.ToLower(s) {
		case "":
			return nil, nil
		case "true", "t", "1", "yes", "y", "on":
			return true, nil
		case "false", "f", "0", "no", "n", "off":
			return false, nil
		}
		return nil, fmt.Errorf("%s: cannot read %s as a boolean (want true/false, 1/0, yes/no, y/n, on/off)", name, quote(s))
	case float64:
		if math.IsNaN(x) {
			return nil, fmt.Errorf("%s: NaN is not a boolean", name)
		}
		return x != 0, nil
	case float32:
		if math.IsNaN(float64(x)) {
			return nil, fmt.Errorf("%s: NaN is not a boolean", name)
		}
		return x != 0, nil
	default:
		if isNumber(x) {
			return !reflect.ValueOf(x).IsZero(), nil
		}
		return nil, typeError(name, "a boolean, a number or a string", x)
	}
}

// genderOf reads a Gigya gender value: 'm', 'f' or 'u' (u also for values it
// does not know), 0 for nil and blank.
func genderOf(name string, v any) (byte, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "":
			return 0, nil
		case "m", "male", "man":
			return 'm', nil
		case "f", "female", "woman":
			return 'f', nil
		}
		return 'u', nil
	}
	return 0, typeError(name, "a string", v)
}

func genderWord(params ...any) (any, error) {
	g, err := genderOf("gender", arg(params, 0))
	switch {
	case err != nil:
		return nil, err
	case g == 'm':
		return "male", nil
	case g == 'f':
		return "female", nil
	}
	return nil, nil
}

func genderCode(params ...any) (any, error) {
	g, err := genderOf("gender_code", arg(params, 0))
	switch {
	case err != nil:
		return nil, err
	case g == 'm':
		return "M", nil
	case g == 'f':
		return "F", nil
	case g == 'u':
		return "U", nil
	}
	return nil, nil
}

func birthdate(params ...any) (any, error) {
	var ymd [3]int
	for i := range ymd {
		n, ok, err := datePart(arg(params, i))
		if err != nil || !ok {
			return nil, err
		}
		ymd[i] = n
	}
	y, m, d := ymd[0], ymd[1], ymd[2]
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 {
		return nil, nil
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 31 April and 29 February of a common year roll over
		return nil, nil
	}
	var buf [10]byte
	return string(t.AppendFormat(buf[:0], time.DateOnly)), nil
}

// datePart reads one of birthYear, birthMonth, birthDay: a whole number or a
// string of digits. ok is false for nil, blank and anything unusable;
// objects, arrays and booleans are errors.
func datePart(v any) (n int, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, false, nil
		}
		return i, true, nil
	}
	if isNumber(v) {
		i, ok := intValue(v)
		if !ok || i < math.MinInt32 || i > math.MaxInt32 {
			return 0, false, nil
		}
		return int(i), true, nil
	}
	return 0, false, typeError("birthdate", "a number or a string of digits", v)
}
