package jsonl

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink/sinktest"
	"github.com/segmentio/encoding/json"
)

func TestConformance(t *testing.T) {
	var path string
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sink.Sink {
			path = filepath.Join(t.TempDir(), "users.jsonl")
			s, err := New(context.Background(), sink.Params{Decode: func(v any) error {
				v.(*Options).Path = path
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Stored: func(t *testing.T) map[string]int {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got := map[string]int{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var u struct {
					UserID string `json:"user_id"`
				}
				if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				got[u.UserID]++
			}
			return got
		},
	})
}
