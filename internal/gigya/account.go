// Package gigya holds what the project knows about SAP Customer Data Cloud
// (Gigya): its accounts, and the REST client of its accounts.search and
// accounts.login APIs (docs/apis/gigya.md).
package gigya

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/swar"
	"github.com/segmentio/encoding/json"
)

// ErrNoUID means an account object has no usable UID: without it the account
// cannot be identified, deduplicated or loaded.
var ErrNoUID = errors.New("account has no UID")

// Key identifies one version of one account.
type Key struct {
	UID string
	// LastUpdated is lastUpdatedTimestamp (ms since the epoch) as decimal
	// text. When the account has neither lastUpdatedTimestamp nor a parsable
	// lastUpdated, it is "h" + a hash of the account, so that two different
	// versions never share a message id.
	LastUpdated string
}

type probe struct {
	UID                  json.RawMessage `json:"UID"`
	LastUpdatedTimestamp json.RawMessage `json:"lastUpdatedTimestamp"`
	LastUpdated          string          `json:"lastUpdated"`
}

// Identify reads the key of an account object without decoding the rest.
func Identify(data []byte) (Key, error) { return identify(data, data) }

// IdentifyValid is [Identify] for data known to be valid JSON, such as the
// records the file source validated as it read them. Identify validates the
// whole account again (strings and all) to decode three members: that was
// half of the extractor's CPU in profiles. IdentifyValid finds the top-level
// members that can be those three, and decodes an object of just them the
// way Identify decodes the whole one, so its key is the same; on anything
// unusual (not an object, or an error to report) it calls Identify, whose
// answer it returns. The file source does better still: it notes the key
// members while it validates, for [IdentifyMembers].
func IdentifyValid(data []byte) (Key, error) {
	probeData, ok := keyMembers(data)
	if !ok {
		return Identify(data)
	}
	k, err := identify(probeData, data)
	if err != nil {
		return Identify(data) // the same error, worded about the whole account
	}
	return k, nil
}

// IdentifyMembers is [IdentifyValid] for an account whose reader has found
// its key members already: members is an object of the top-level members
// of data whose names pass [MayBeKeyName] (the file source collects them
// as it validates). Its key is the one Identify reads from data.
func IdentifyMembers(members, data []byte) (Key, error) {
	k, err := identify(members, data)
	if err != nil {
		return Identify(data) // the same error, worded about the whole account
	}
	return k, nil
}

// keyMembers returns an object of the top-level members of the valid JSON
// object data whose names may match the probe's fields: JSON decoding
// matches them case-insensitively, so every ASCII case variant, and any name
// with an escape or a non-ASCII byte, is kept for the decoder to judge.
func keyMembers(data []byte) ([]byte, bool) {
	i := skipBlank(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	out := make([]byte, 0, 128)
	out = append(out, '{')
	i = skipBlank(data, i+1)
	if i < len(data) && data[i] == '}' {
		return append(out, '}'), true
	}
	for i < len(data) {
		start := i
		end, ok := skipValue(data, i) // the name, a string
		if !ok || data[start] != '"' {
			return nil, false
		}
		name := data[start+1 : end-1]
		i = skipBlank(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipBlank(data, i+1)
		vEnd, ok := skipValue(data, i)
		if !ok {
			return nil, false
		}
		if MayBeKeyName(name) {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, data[start:vEnd]...)
		}
		i = skipBlank(data, vEnd)
		if i < len(data) && data[i] == ',' {
			i = skipBlank(data, i+1)
			continue
		}
		if i < len(data) && data[i] == '}' {
			return append(out, '}'), true
		}
		return nil, false
	}
	return nil, false
}

// MayBeKeyName reports whether a top-level member of this name may hold
// part of an account's key: a case variant of UID, lastUpdatedTimestamp or
// lastUpdated (JSON decoding matches names case-insensitively), or a name
// with an escape or a non-ASCII byte, which only a decoder can judge.
func MayBeKeyName(name []byte) bool {
	for _, c := range name {
		if c == '\\' || c >= 0x80 {
			return true
		}
	}
	return bytes.EqualFold(name, []byte("UID")) || bytes.EqualFold(name, []byte("lastUpdatedTimestamp")) ||
		bytes.EqualFold(name, []byte("lastUpdated"))
}

func skipBlank(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value at b[i:]: strings and
// nesting are followed, nothing else is checked.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = stringClose(b, i+1)
			if i >= len(b) {
				return 0, false
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, true // the end of the object holding a scalar
			}
			depth--
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, true
			}
		}
		i++
		if depth == 0 && (b[i-1] == '"' || b[i-1] == '}' || b[i-1] == ']') {
			return i, true
		}
	}
	return i, depth == 0 && i > 0
}

// stringClose returns the index of the quote that closes the string whose
// content starts at b[i] (len(b) when there is none). Account strings are
// long and rarely escaped: eight bytes are looked at a time up to a quote,
// a backslash or a control byte (which valid JSON does not hold unescaped).
func stringClose(b []byte, i int) int {
	for {
		i = swar.SkipPlain(b, i)
		for i < len(b) && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) || b[i] == '"' {
			return i
		}
		i += 2 // an escape and the byte it escapes
	}
}

// identify decodes the key from probeData, an account object or the part
// of one holding its key members; full is the whole account, hashed when it
// has no timestamp.
func identify(probeData, full []byte) (Key, error) {
	var p probe
	if err := json.Unmarshal(probeData, &p); err != nil {
		return Key{}, fmt.Errorf("account JSON: %w", err)
	}
	var uid string
	if len(p.UID) > 0 && p.UID[0] == '"' {
		_ = json.Unmarshal(p.UID, &uid)
	}
	if strings.TrimSpace(uid) == "" {
		return Key{}, ErrNoUID
	}
	if strings.TrimSpace(uid) != uid {
		// Trimming it would key the account under a UID its own record
		// does not hold, and the mapped user_id would not match.
		return Key{}, fmt.Errorf("%w: %q has leading or trailing blanks", ErrNoUID, uid)
	}
	if strings.ContainsAny(uid, ":\r\n") {
		return Key{}, fmt.Errorf("%w: %q contains ':' or a line break", ErrNoUID, uid)
	}
	k := Key{UID: uid}
	if ms, ok := millis(p.LastUpdatedTimestamp); ok {
		k.LastUpdated = strconv.FormatInt(ms, 10)
	} else if t, err := time.Parse(time.RFC3339Nano, p.LastUpdated); err == nil {
		k.LastUpdated = strconv.FormatInt(t.UnixMilli(), 10)
	} else {
		sum := sha256.Sum256(full)
		k.LastUpdated = "h" + hex.EncodeToString(sum[:8])
	}
	return k, nil
}

// millis accepts the number Gigya documents and the quoted number some
// exports contain.
func millis(raw json.RawMessage) (int64, bool) {
	raw = bytes.Trim(bytes.TrimSpace(raw), `"`)
	if len(raw) == 0 {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil && n > 0 {
		return n, true
	}
	if f, err := strconv.ParseFloat(string(raw), 64); err == nil && f > 0 {
		return int64(f), true
	}
	return 0, false
}
