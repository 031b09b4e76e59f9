package deadletter

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/nats-io/nats.go/jetstream"
)

// previewBytes bounds what is shown of a payload that is not JSON: enough
// to recognise a broken export line, not a dump.
const previewBytes = 256

// Letter is one dead letter, ready to show: secrets redacted, nothing that
// could garble a terminal.
type Letter struct {
	Stream   string              `json:"stream"`
	Seq      uint64              `json:"seq"`
	Subject  string              `json:"subject"`
	Time     time.Time           `json:"time"`
	Stage    string              `json:"stage"`
	Target   string              `json:"target"`
	Code     string              `json:"code"`
	Error    string              `json:"error"`
	UID      string              `json:"uid,omitempty"`
	Redriven int                 `json:"redriven"`
	Headers  map[string][]string `json:"headers"`
	Size     int                 `json:"size"` // payload bytes, as stored
	// Payload is the payload as indented JSON with secrets redacted; nil
	// when the payload is not valid JSON.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Preview stands in for a payload that is not JSON: the first bytes,
	// secrets redacted where a key names them, as a Go-quoted ASCII string,
	// or as hex when they are not UTF-8.
	Preview string `json:"preview,omitempty"`
	// PreviewHex says Preview is hex.
	PreviewHex bool `json:"preview_hex,omitempty"`
	// RedactedValues counts the values [Redact] replaced.
	RedactedValues int `json:"redacted_values"`
}

// Show reads the dead letter at sequence seq of stream, with the payload
// pretty-printed and its secrets replaced (see [Redact]).
func Show(ctx context.Context, js jetstream.JetStream, stream string, seq uint64) (*Letter, error) {
	st, err := openStream(ctx, js, stream)
	if err != nil {
		return nil, err
	}
	m, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("no dead letter at sequence %d in %s (it was redriven or deleted; list shows the sequences): %w", seq, stream, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read dead letter %d of %s: %w", seq, stream, err)
	}
	e := entry{Seq: m.Sequence, Subject: m.Subject, Time: m.Time, Header: m.Header}
	l := &Letter{
		Stream: stream, Seq: m.Sequence, Subject: m.Subject, Time: m.Time,
		Stage: e.stage(), Target: e.target(), Code: m.Header.Get(message.HdrErrorCode),
		Error: m.Header.Get(message.HdrError), UID: m.Header.Get(message.HdrUID),
		Redriven: e.redriven(), Headers: map[string][]string(m.Header), Size: len(m.Data),
	}
	if l.Headers == nil {
		l.Headers = map[string][]string{}
	}
	redacted, n := Redact(m.Data)
	l.RedactedValues = n
	if json.Valid(m.Data) {
		var buf bytes.Buffer
		if json.Indent(&buf, redacted, "", "  ") == nil {
			l.Payload = buf.Bytes()
			return l, nil
		}
	}
	l.Preview, l.PreviewHex = preview(redacted)
	return l, nil
}

// preview renders the start of a payload safely for a terminal: quoted
// text when it is UTF-8, hex otherwise.
func preview(data []byte) (text string, isHex bool) {
	p := data[:min(len(data), previewBytes)]
	if len(p) < len(data) {
		// The cut may split a rune: that alone is no reason for hex.
		for i := 0; i < utf8.UTFMax-1 && len(p) > 0 && !utf8.Valid(p); i++ {
			p = p[:len(p)-1]
		}
	}
	if !utf8.Valid(p) {
		return hex.EncodeToString(data[:min(len(data), previewBytes)]), true
	}
	return strconv.QuoteToASCII(string(p)), false
}
