package mapping

import (
	"reflect"
	"testing"
)

// date() parses in UTC whatever the host's zone, also as a method receiver
// (expr.Timezone breaks `date(x).Method()` in v1.17.8; fixedZone does not).
func TestDatesUseUTC(t *testing.T) {
	account := `{"created": "2019-03-14T09:26:53.589Z", "local": "2019-03-14 09:26:53"}`
	for src, want := range map[string]any{
		`date(created).Year()`:                                       2019,
		`date(created).UnixMilli()`:                                  int64(1552555613589),
		`date(local, "2006-01-02 15:04:05").Unix()`:                  int64(1552555613),
		`date(local, "2006-01-02 15:04:05").Location().String()`:     "UTC",
		`date(created) == date("2019-03-14T09:26:53.589Z")`:          true,
		`now().Location().String()`:                                  "UTC",
		`date(local, "2006-01-02 15:04:05", "Europe/Berlin").Unix()`: int64(1552555613 - 3600),
	} {
		got, err := evalOne(t, src, account)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", src, got, want)
		}
	}
}
