package consume

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// pulled is a message delivered to one of our pull requests. It behaves as
// the client's own JetStream message (the same acks, the same errors) but
// parses its metadata once, when it arrives: a stage reads it several
// times per message, and the client parses the reply subject, allocating,
// at every call.
type pulled struct {
	msg   *nats.Msg
	nc    *nats.Conn
	meta  jetstream.MsgMetadata
	err   error // from parsing the metadata
	acked atomic.Bool
}

var _ jetstream.Msg = (*pulled)(nil)

func newPulled(nc *nats.Conn, m *nats.Msg) *pulled {
	p := &pulled{msg: m, nc: nc}
	p.err = parseAckSubject(m.Reply, &p.meta)
	return p
}

// The acknowledgement bodies of the JetStream protocol.
var (
	ackAck      = []byte("+ACK")
	ackNak      = []byte("-NAK")
	ackProgress = []byte("+WPI")
	ackTerm     = []byte("+TERM")
)

// doubleAckTimeout bounds a DoubleAck whose context has no deadline, as the
// client's default API timeout does.
const doubleAckTimeout = 5 * time.Second

func (p *pulled) Metadata() (*jetstream.MsgMetadata, error) {
	if p.err != nil {
		return nil, p.err
	}
	return &p.meta, nil
}

func (p *pulled) Data() []byte         { return p.msg.Data }
func (p *pulled) Headers() nats.Header { return p.msg.Header }
func (p *pulled) Subject() string      { return p.msg.Subject }
func (p *pulled) Reply() string        { return p.msg.Reply }

func (p *pulled) Ack() error { return p.reply(ackAck, true) }

func (p *pulled) DoubleAck(ctx context.Context) error {
	if err := p.check(); err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, doubleAckTimeout)
		defer cancel()
	}
	if _, err := p.nc.RequestWithContext(ctx, p.msg.Reply, ackAck); err != nil {
		return err
	}
	p.acked.Store(true)
	return nil
}

func (p *pulled) Nak() error        { return p.reply(ackNak, true) }
func (p *pulled) InProgress() error { return p.reply(ackProgress, false) }
func (p *pulled) Term() error       { return p.reply(ackTerm, true) }

func (p *pulled) NakWithDelay(delay time.Duration) error {
	if delay <= 0 {
		return p.Nak()
	}
	return p.reply(fmt.Appendf(nil, `%s {"delay": %d}`, ackNak, delay.Nanoseconds()), true)
}

func (p *pulled) TermWithReason(reason string) error {
	if reason == "" {
		return p.Term()
	}
	return p.reply(fmt.Appendf(nil, "%s %s", ackTerm, reason), true)
}

func (p *pulled) check() error {
	switch {
	case p.msg.Reply == "":
		return jetstream.ErrMsgNoReply
	case p.acked.Load():
		return jetstream.ErrMsgAlreadyAckd
	}
	return nil
}

// reply sends an acknowledgement; final ones (all but progress) may be
// sent once.
func (p *pulled) reply(body []byte, final bool) error {
	if err := p.check(); err != nil {
		return err
	}
	if err := p.nc.Publish(p.msg.Reply, body); err != nil {
		return err
	}
	if final {
		p.acked.Store(true)
	}
	return nil
}

// errAckSubject is the error of a reply subject that is not a JetStream
// acknowledgement subject.
var errAckSubject = errors.New("not a JetStream acknowledgement subject")

// parseAckSubject reads a delivery's metadata from its reply subject, in
// either of the forms a server sends:
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>
//	$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>[.<token>...]
//
// The strings it sets are views of reply (no copies).
func parseAckSubject(reply string, meta *jetstream.MsgMetadata) error {
	rest, ok := strings.CutPrefix(reply, "$JS.ACK.")
	if !ok {
		return fmt.Errorf("%w: %q", errAckSubject, reply)
	}
	var tok [12]string
	n := 0
	for n < len(tok) {
		var more bool
		tok[n], rest, more = strings.Cut(rest, ".")
		n++
		if !more {
			break
		}
	}
	// Counted without the "$JS.ACK" prefix: 7 tokens in the first form, at
	// least 9 in the second (the trailing token may go in future servers).
	var t []string
	switch {
	case n == 7:
		t = tok[:7]
	case n >= 9:
		meta.Domain = tok[0]
		if meta.Domain == "_" {
			meta.Domain = ""
		}
		t = tok[2:9]
	default:
		return fmt.Errorf("%w: %q has %d tokens", errAckSubject, reply, n+2)
	}
	meta.Stream, meta.Consumer = t[0], t[1]
	nums := [5]uint64{}
	for i, s := range t[2:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: %q: %v", errAckSubject, reply, err)
		}
		nums[i] = v
	}
	meta.NumDelivered = nums[0]
	meta.Sequence = jetstream.SequencePair{Stream: nums[1], Consumer: nums[2]}
	meta.Timestamp = time.Unix(0, int64(nums[3]))
	meta.NumPending = nums[4]
	return nil
}
