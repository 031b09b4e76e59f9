package mapfunc

import (
	"math"
	"testing"
)

func TestCoalesce(t *testing.T) {
	runCases(t, []tc{
		{src: `coalesce(profile.nickname, profile.firstName)`, want: "Jane"},
		{src: `coalesce(data.newsletterSource, "web")`, want: "web"},
		{src: `coalesce(nil, "", "  ", [], {}, loginIDs.unverifiedEmails, loginIDs.emails)`, want: []any{"Jane.Doe@Example.com"}},
		{src: `coalesce(nil, 0, 1)`, want: 0},            // 0 is a value
		{src: `coalesce(nil, false, true)`, want: false}, // so is false
		{src: `coalesce(" x ")`, want: " x "},            // returned as is
		{src: `coalesce(nil, profile.nothing)`, want: nil},
		{src: `coalesce()`, want: nil},
		{src: `coalesce(nil, nil, nil, nil, nil, "fifth")`, want: "fifth"}, // more args than OpCall3
	})
}

func TestJoinName(t *testing.T) {
	runCases(t, []tc{
		{src: `join_name(profile.firstName, profile.lastName)`, want: "Jane Doe"},
		{src: `join_name(" Jane ", "  ")`, want: "Jane"},
		{src: `join_name(nil, "Doe")`, want: "Doe"},
		{src: `join_name("Mary Ann", "van der Berg")`, want: "Mary Ann van der Berg"},
		{src: `join_name(nil, nil)`, want: nil},
		{src: `join_name("", " ")`, want: nil},
		{src: `join_name(profile.nothing, profile.nothing)`, want: nil},
		{src: `join_name("Jane", 7)`, want: "Jane 7"},
		{src: `join_name("Jane", true)`, wantErr: "join_name: want text or a number, got a boolean"},
		{src: `join_name(profile, "Doe")`, wantErr: "got an object"},
	})
}

func TestJoinNonempty(t *testing.T) {
	runCases(t, []tc{
		{src: `join_nonempty(", ", profile.city, profile.zip, profile.country)`, want: "Berlin, 10115, de"},
		{src: `join_nonempty(" ", nil, "", " a ", data.missing, "b")`, want: "a b"},
		{src: `join_nonempty(",", loginIDs.emails, "x")`, want: "Jane.Doe@Example.com,x"},
		{src: `join_nonempty("|", [1, nil, "", 2.5], [])`, want: "1|2.5"},
		{src: `join_nonempty("", "a", "b")`, want: "ab"},
		{src: `join_nonempty(data.missing, "a", "b")`, want: "ab"},
		{src: `join_nonempty("-", createdTimestamp)`, want: "1552555613589"},
		{src: `join_nonempty("-", 1e21)`, want: "1000000000000000000000"},
		{src: `join_nonempty(", ")`, want: nil},
		{src: `join_nonempty(", ", nil, " ", [])`, want: nil},
		{src: `join_nonempty(", ", [[1]])`, wantErr: "join_nonempty: want text or a number, got an array"},
		{src: `join_nonempty(", ", profile)`, wantErr: "got an object"},
		{src: `join_nonempty(data.score, "a")`, wantErr: "join_nonempty: separator: want a string, got a number"},
	})
	if _, err := joinNonempty(",", math.NaN()); err == nil {
		t.Error("NaN: want an error")
	}
	if got, err := joinNonempty(",", uint64(math.MaxUint64)); got != "18446744073709551615" || err != nil {
		t.Errorf("uint64: %v, %v", got, err)
	}
	if got, err := joinNonempty(); got != nil || err != nil {
		t.Errorf("no args: %v, %v", got, err)
	}
}

func TestToBool(t *testing.T) {
	runCases(t, []tc{
		{src: `to_bool(isVerified)`, want: true},
		{src: `to_bool(data.optIn)`, want: true},
		{src: `to_bool(false)`, want: false},
		{src: `to_bool("TRUE")`, want: true},
		{src: `to_bool(" false ")`, want: false},
		{src: `to_bool("1")`, want: true},
		{src: `to_bool("0")`, want: false},
		{src: `to_bool("No")`, want: false},
		{src: `to_bool("y")`, want: true},
		{src: `to_bool("off")`, want: false},
		{src: `to_bool("t")`, want: true},
		{src: `to_bool(1)`, want: true},
		{src: `to_bool(0)`, want: false},
		{src: `to_bool(-2)`, want: true},
		{src: `to_bool(0.0)`, want: false},
		{src: `to_bool(data.score)`, want: true},
		{src: `to_bool(createdTimestamp)`, want: true},
		{src: `to_bool(nil)`, want: nil},
		{src: `to_bool(data.missing)`, want: nil},
		{src: `to_bool("")`, want: nil},
		{src: `to_bool("maybe")`, wantErr: `to_bool: cannot read "maybe" as a boolean`},
		{src: `to_bool("2")`, wantErr: "cannot read"},
		{src: `to_bool(profile)`, wantErr: "to_bool: want a boolean, a number or a string, got an object"},
		{src: `to_bool([])`, wantErr: "got an array"},
	})
	for v, want := range map[any]bool{uint8(0): false, uint64(3): true, int32(-1): true, float32(0): false} {
		if got, err := toBool(v); got != want || err != nil {
			t.Errorf("%T %v: %v, %v", v, v, got, err)
		}
	}
	for _, v := range []any{math.NaN(), float32(math.NaN())} {
		if _, err := toBool(v); err == nil {
			t.Errorf("%T NaN: want an error", v)
		}
	}
}

func TestGender(t *testing.T) {
	runCases(t, []tc{
		{src: `gender(profile.gender)`, want: "female"},
		{src: `gender("m")`, want: "male"},
		{src: `gender(" M ")`, want: "male"},
		{src: `gender("Male")`, want: "male"},
		{src: `gender("woman")`, want: "female"},
		{src: `gender("u")`, want: nil},
		{src: `gender("unknown")`, want: nil},
		{src: `gender("diverse")`, want: nil},
		{src: `gender("")`, want: nil},
		{src: `gender(nil)`, want: nil},
		{src: `gender(profile.nothing)`, want: nil},
		{src: `gender(1)`, wantErr: "gender: want a string, got a number"},

		{src: `gender_code(profile.gender)`, want: "F"},
		{src: `gender_code("m")`, want: "M"},
		{src: `gender_code("FEMALE")`, want: "F"},
		{src: `gender_code("u")`, want: "U"},
		{src: `gender_code("non-binary")`, want: "U"},
		{src: `gender_code(" ")`, want: nil},
		{src: `gender_code(nil)`, want: nil},
		{src: `gender_code(true)`, wantErr: "gender_code: want a string, got a boolean"},
	})
}

func TestBirthdate(t *testing.T) {
	runCases(t, []tc{
		{src: `birthdate(profile.birthYear, profile.birthMonth, profile.birthDay)`, want: "1988-05-12"},
		{src: `birthdate("1988", "05", " 12 ")`, want: "1988-05-12"},
		{src: `birthdate(1988.0, 5.0, 12.0)`, want: "1988-05-12"},
		{src: `birthdate(2000, 2, 29)`, want: "2000-02-29"},
		{src: `birthdate(999, 1, 1)`, want: "0999-01-01"},
		{src: `birthdate(1900, 2, 29)`, want: nil}, // not a leap year
		{src: `birthdate(1988, 4, 31)`, want: nil},
		{src: `birthdate(1988, 13, 1)`, want: nil},
		{src: `birthdate(1988, 0, 1)`, want: nil},
		{src: `birthdate(1988, 5, 0)`, want: nil},
		{src: `birthdate(0, 5, 12)`, want: nil},
		{src: `birthdate(10000, 5, 12)`, want: nil},
		{src: `birthdate(-1988, 5, 12)`, want: nil},
		{src: `birthdate(1988, 5.5, 12)`, want: nil},
		{src: `birthdate(1988, "May", 12)`, want: nil},
		{src: `birthdate(1988, 5, nil)`, want: nil},
		{src: `birthdate(profile.birthYear, nil, nil)`, want: nil},
		{src: `birthdate(1988, 5, "")`, want: nil},
		{src: `birthdate(99999999999999, 5, 12)`, want: nil},
		{src: `birthdate(1988, 5, true)`, wantErr: "birthdate: want a number or a string of digits, got a boolean"},
		{src: `birthdate(profile, 5, 12)`, wantErr: "got an object"},
	})
}
