package sink_test

import (
	"net/http/httptest"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink/sinktest"
)

// TestWebhookConformance runs the suite against the example sink and its
// receiver: what a test of your own sink looks like.
func TestWebhookConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinktest.Storage {
			rc := &receiver{users: map[string]string{}}
			srv := httptest.NewServer(rc)
			t.Cleanup(srv.Close)
			return sinktest.Storage{
				Open: func(t *testing.T) sink.Sink {
					s, err := NewWebhook(t.Context(), sink.Params{Decode: func(v any) error {
						v.(*WebhookOptions).URL = srv.URL
						return nil
					}})
					if err != nil {
						t.Fatal(err)
					}
					return s
				},
				Stored: func(t *testing.T) map[string]int {
					rc.mu.Lock()
					defer rc.mu.Unlock()
					got := map[string]int{}
					for _, uid := range rc.users {
						got[uid]++
					}
					return got
				},
			}
		},
		Refuse: func(r sink.Record) sink.Record {
			r.Data = []byte(`{"user_id":"` + r.UID + `"}`)
			return r
		},
	})
}
