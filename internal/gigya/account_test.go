package gigya

import (
	"errors"
	"strings"
	"testing"
)

func TestIdentify(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    Key
		wantErr error
	}{
		{"number", `{"UID":"u1","lastUpdatedTimestamp":1706781600000}`, Key{"u1", "1706781600000"}, nil},
		{"quoted number", `{"UID":"u1","lastUpdatedTimestamp":"1706781600000"}`, Key{"u1", "1706781600000"}, nil},
		{"float", `{"UID":"u1","lastUpdatedTimestamp":1.7067816e12}`, Key{"u1", "1706781600000"}, nil},
		{"iso fallback", `{"UID":"u1","lastUpdated":"2024-02-01T10:00:00.000Z"}`, Key{"u1", "1706781600000"}, nil},
		{"uid with blanks", `{"UID":" u1 ","lastUpdatedTimestamp":5}`, Key{}, ErrNoUID}, // the mapping would read " u1 "
		{"no uid", `{"profile":{}}`, Key{}, ErrNoUID},
		{"empty uid", `{"UID":""}`, Key{}, ErrNoUID},
		{"numeric uid", `{"UID":12}`, Key{}, ErrNoUID},
		{"uid with colon", `{"UID":"a:b"}`, Key{}, ErrNoUID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Identify([]byte(tt.give))
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Identify() = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	// Without a timestamp the version is a content hash: stable, and
	// different for different content.
	a1, _ := Identify([]byte(`{"UID":"u1","profile":{"email":"a@x"}}`))
	a2, _ := Identify([]byte(`{"UID":"u1","profile":{"email":"a@x"}}`))
	b, _ := Identify([]byte(`{"UID":"u1","profile":{"email":"b@x"}}`))
	if !strings.HasPrefix(a1.LastUpdated, "h") || a1 != a2 || a1 == b {
		t.Fatalf("hash versions: %v %v %v", a1, a2, b)
	}
	if _, err := Identify([]byte(`{"UID":`)); err == nil || errors.Is(err, ErrNoUID) {
		t.Fatalf("invalid JSON must be a decode error, got %v", err)
	}
}
