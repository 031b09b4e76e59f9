package deadletter

import (
	"context"
	"fmt"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
)

func TestScanReadsHeadersOnlyStopsAtItsStartAndCleansUp(t *testing.T) {
	js := natstest.Start(t).JetStream()
	ctx := context.Background()
	top, err := topology.Ensure(ctx, js, topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	publish := func(i int) {
		t.Helper()
		dl := message.DeadLetter{Stage: message.StageLoad, Target: "auth0", Code: "c", UID: fmt.Sprint("u", i),
			SourceSubject: message.MappedSubject("auth0"), SourceSeq: uint64(i), Data: []byte(`{"password_hash":"x"}`)}
		if _, err := js.PublishMsg(ctx, dl.Msg()); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ {
		publish(i)
	}
	var seqs []uint64
	err = scan(ctx, js, top.DeadLetter, filterSubject("", ""), 0, 0, func(e entry) bool {
		if e.Header.Get("Nats-Msg-Size") == "" {
			t.Errorf("seq %d: no Nats-Msg-Size header: the payload was transferred", e.Seq)
		}
		if len(seqs) == 0 {
			publish(100) // a stage dead-letters while the scan runs
		}
		seqs = append(seqs, e.Seq)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5]" {
		t.Errorf("scanned %v, want the 5 dead letters stored before the scan", seqs)
	}
	info, err := top.DeadLetter.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Consumers != 0 || info.State.Msgs != 6 {
		t.Errorf("after the scan: %d consumers (want 0), %d messages (want 6)", info.State.Consumers, info.State.Msgs)
	}
}
