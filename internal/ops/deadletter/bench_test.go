package deadletter_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/ops/deadletter"
)

// fill stores n transform-stage dead letters with 2 KB payloads (the size of
// a Gigya record) spread over 8 error codes. Each call uses new source
// sequences, so the dead letters' ids never repeat.
func (p *pipeline) fill(b testing.TB, n int) {
	b.Helper()
	pad := make([]byte, 2048)
	for i := range pad {
		pad[i] = 'x'
	}
	defer func() { p.filled += n }()
	for start := 0; start < n; start += 1000 {
		acks := make([]<-chan error, 0, 1000)
		for i := start; i < min(n, start+1000); i++ {
			uid := fmt.Sprintf("uid-%06d", i)
			m := transformDL(uid, "site1", fmt.Sprintf("code_%d", i%8), uint64(p.filled+i+1), nil)
			m.Data = fmt.Appendf(nil, `{"UID":%q,"password":{"hash":"h"},"data":{"pad":%q}}`, uid, pad)
			fut, err := p.js.PublishMsgAsync(m)
			if err != nil {
				b.Fatal(err)
			}
			acks = append(acks, fut.Err())
		}
		select {
		case <-p.js.PublishAsyncComplete():
		case <-time.After(30 * time.Second):
			b.Fatal("dead letters not stored within 30s")
		}
		for _, c := range acks {
			select {
			case err := <-c:
				b.Fatal(err)
			default:
			}
		}
	}
}

// BenchmarkSummarize100k measures a headers-only scan of 100k dead letters.
func BenchmarkSummarize100k(b *testing.B) {
	const n = 100_000
	p := newPipeline(b)
	p.fill(b, n)
	b.ResetTimer()
	for b.Loop() {
		groups, err := deadletter.Summarize(context.Background(), p.js, dlStream)
		if err != nil {
			b.Fatal(err)
		}
		total := 0
		for _, g := range groups {
			total += g.Count
		}
		if total != n || len(groups) != 8 {
			b.Fatalf("counted %d in %d groups, want %d in 8", total, len(groups), n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "dead_letters/s")
}

// BenchmarkRedrive10k measures redriving 10k dead letters back to RAW
// (read, publish, PubAck, delete: one after the other, to keep their order).
func BenchmarkRedrive10k(b *testing.B) {
	const n = 10_000
	p := newPipeline(b)
	for b.Loop() {
		b.StopTimer()
		p.fill(b, n)
		b.StartTimer()
		res, err := deadletter.Redrive(context.Background(), p.js, dlStream, deadletter.Selection{All: true}, deadletter.Options{})
		if err != nil || res.Redriven != n {
			b.Fatalf("result %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "dead_letters/s")
}
