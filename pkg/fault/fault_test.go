package fault

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		give     error
		wantKind Kind
		wantCode string
	}{
		{"marked permanent", Permanent("bad_record", errors.New("x")), KindPermanent, "bad_record"},
		{"marked transient", Transient("rate_limited", errors.New("x")), KindTransient, "rate_limited"},
		{"wrapped marking survives", fmt.Errorf("load: %w", Transient("target_5xx", errors.New("x"))), KindTransient, "target_5xx"},
		{"outermost marking wins", Permanent("gave_up", Transient("t", errors.New("x"))), KindPermanent, "gave_up"},
		{"deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), KindTransient, "unavailable"},
		{"nats timeout", nats.ErrTimeout, KindTransient, "unavailable"},
		{"plain error", errors.New("boom"), KindPermanent, "internal"},
		{"jetstream temporarily unavailable (restart, election)", fmt.Errorf("stream X: %w", &jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}), KindTransient, "unavailable"},
		{"jetstream not enabled is configuration", jetstream.ErrJetStreamNotEnabled, KindPermanent, "internal"},
		{"jetstream not enabled for the account", jetstream.ErrJetStreamNotEnabledForAccount, KindPermanent, "internal"},
		{"jetstream bad request", &jetstream.APIError{Code: 400, ErrorCode: 10003}, KindPermanent, "internal"},
		{"stream without leader", fmt.Errorf("publish: %w", jetstream.ErrNoStreamResponse), KindTransient, "unavailable"},
		{"lost pub ack", jetstream.ErrAsyncPublishTimeout, KindTransient, "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, code := Classify(tt.give)
			if kind != tt.wantKind || code != tt.wantCode {
				t.Fatalf("Classify() = %v, %q; want %v, %q", kind, code, tt.wantKind, tt.wantCode)
			}
		})
	}
	if Permanent("c", nil) != nil || Transient("c", nil) != nil {
		t.Fatal("marking nil must stay nil")
	}
}
