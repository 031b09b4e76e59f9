package auth0file

import (
	"testing"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/segmentio/encoding/json"
)

// TestPackFillsFiles packs realistic users (generated accounts through
// configs/auth0.yaml): no file exceeds the limit, each is a JSON array, and
// every file but the last is filled to at least 90% of it.
func TestPackFillsFiles(t *testing.T) {
	m, err := mapping.Parse("auth0.yaml", configs.Auth0Mapping)
	if err != nil {
		t.Fatal(err)
	}
	ev := m.NewEvaluator()
	g := sample.New(4, sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	var recs []sink.Record
	for len(recs) < 4000 {
		a := g.Next()
		out, skip, err := ev.ApplyJSON(a.JSON)
		if err != nil || skip != "" {
			continue
		}
		b, _ := json.Marshal(out)
		recs = append(recs, sink.Record{UID: a.UID, Data: b})
	}
	for _, limit := range []int{AuthZeroLimit, 100_000} {
		files, rejected := Pack(recs, limit)
		if len(rejected) != 0 {
			t.Fatalf("rejected %v", rejected)
		}
		users, minFill := 0, 1.0
		for i, f := range files {
			if len(f.Data) > limit {
				t.Fatalf("file %d is %d bytes, over %d", i, len(f.Data), limit)
			}
			var arr []json.RawMessage
			if err := json.Unmarshal(f.Data, &arr); err != nil {
				t.Fatalf("file %d is not a JSON array: %v", i, err)
			}
			if len(arr) != len(f.Index) {
				t.Fatalf("file %d holds %d users but indexes %d", i, len(arr), len(f.Index))
			}
			for k, u := range arr {
				if string(u) != string(recs[f.Index[k]].Data) {
					t.Fatalf("file %d, user %d is not record %d", i, k, f.Index[k])
				}
			}
			users += len(arr)
			if fill := float64(len(f.Data)) / float64(limit); i < len(files)-1 && fill < minFill {
				minFill = fill
			}
		}
		if users != len(recs) {
			t.Fatalf("%d users packed, want %d", users, len(recs))
		}
		if minFill < 0.9 {
			t.Fatalf("a file is only %.1f%% full", 100*minFill)
		}
		t.Logf("limit %d: %d users in %d files, every full file at least %.2f%% of the limit", limit, users, len(files), 100*minFill)
	}
}
