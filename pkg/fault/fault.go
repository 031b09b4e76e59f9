// Package fault classifies errors as transient or permanent, in one place.
//
// Every stage decides what to do with a failed message from this
// classification alone: a transient error (network, timeouts, 5xx, 429, a
// JetStream hiccup) is retried with backoff by negatively acknowledging the
// message with a delay; a permanent error (a bad record, a mapping failure, a
// target that rejects the user) sends the message to the dead-letter stream
// with a stable code, and the message is then acknowledged. Code that creates
// an error that is not obviously either marks it with [Transient] or
// [Permanent]; [Classify] recognises the common transient cases itself.
package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Kind says whether retrying can help.
type Kind int

const (
	// KindPermanent errors fail again on retry: dead-letter the input.
	KindPermanent Kind = iota
	// KindTransient errors may succeed on retry: retry with backoff.
	KindTransient
)

func (k Kind) String() string {
	if k == KindTransient {
		return "transient"
	}
	return "permanent"
}

// Error is an error with a classification and a stable, machine-readable code
// (it becomes the Etl-Error-Code header of a dead letter).
type Error struct {
	Kind Kind
	Code string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// Permanent marks err as permanent with the given code. It returns nil for a nil err.
func Permanent(code string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindPermanent, Code: code, Err: err}
}

// Permanentf is Permanent with a formatted error.
func Permanentf(code, format string, args ...any) error {
	return Permanent(code, fmt.Errorf(format, args...))
}

// Transient marks err as transient with the given code. It returns nil for a nil err.
func Transient(code string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindTransient, Code: code, Err: err}
}

// Classify returns the kind and code of err. Errors marked with [Transient] or
// [Permanent] keep their marking (the outermost one wins); otherwise timeouts,
// network errors and NATS/JetStream availability errors are transient with code
// "unavailable", and anything else is permanent with code "internal".
func Classify(err error) (Kind, string) {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind, fe.Code
	}
	if isTransient(err) {
		return KindTransient, "unavailable"
	}
	return KindPermanent, "internal"
}

// IsTransient reports whether retrying err may help.
func IsTransient(err error) bool {
	k, _ := Classify(err)
	return k == KindTransient
}

func isTransient(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, jetstream.ErrNoHeartbeat),
		errors.Is(err, jetstream.ErrJetStreamPublisherClosed),
		errors.Is(err, jetstream.ErrTooManyStalledMsgs),
		// In a cluster, a stream without a leader (an election after a
		// node loss) does not answer, and an ack lost with its leader
		// times out: both pass once a new leader is elected.
		errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	// A 503 from the JetStream API is the system or a stream without a
	// leader for now (a restart, an election); JetStream switched off for
	// the account is also a 503, but a configuration matter.
	var ae *jetstream.APIError
	if errors.As(err, &ae) && ae.Code == 503 {
		return ae.ErrorCode != jetstream.JSErrCodeJetStreamNotEnabled && ae.ErrorCode != jetstream.JSErrCodeJetStreamNotEnabledForAccount
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}
