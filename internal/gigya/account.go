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

// IdentifyMembers is [Identify] for an account whose reader has found its
// key members already: members is an object of the top-level members of
// data whose names pass [MayBeKeyName] (the file source notes them as it
// validates). Identify validates the whole account again (strings and
// all) to decode three members, half of the extractor's CPU in profiles;
// this decodes just them, the way Identify decodes the whole one, so its
// key is the same. On an error it calls Identify, whose answer it returns.
func IdentifyMembers(members, data []byte) (Key, error) {
	k, err := identify(members, data)
	if err != nil {
		return Identify(data) // the same error, worded about the whole account
	}
	return k, nil
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
