package load

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/claims"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/swar"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// uniqueField is one entry of loader.unique.
type uniqueField struct {
	name string   // as configured: "email", "app_metadata.login"
	path []string // its keys
	code string   // the dead-letter code of a conflict: email_conflict
}

func uniqueFields(paths []string) []uniqueField {
	out := make([]uniqueField, len(paths))
	for i, p := range paths {
		out[i] = uniqueField{name: p, path: strings.Split(p, "."), code: conflictCode(p)}
	}
	return out
}

// conflictCode is the dead-letter code of a conflict on the field at path:
// email_conflict for email (Auth0) and Email.Value (LoginRadius alike),
// phoneid_conflict for PhoneId.
func conflictCode(path string) string {
	path = strings.TrimSuffix(strings.ToLower(path), ".value")
	return strings.ReplaceAll(path, ".", "_") + "_conflict"
}

// fieldValue is the string at path in the JSON object data. Where the path
// meets an array, it reads the array's first element: LoginRadius keeps the
// login email as the first item of Email ([{"Type": "Primary", "Value":
// ...}]), so loader.unique names it Email.Value.
//
// It reads only the members on the way, skipping the others by their
// brackets and quotes instead of decoding the user (which cost the loader a
// third of its time per user): the same value for every valid user, the
// last of repeated keys as a decoder takes it. An array on the way is left
// to the decoding reader.
func fieldValue(data []byte, path []string) (string, bool) {
	raw := data
	for _, key := range path {
		v, found, ok := member(raw, key)
		if !ok {
			return fieldValueDecoded(data, path) // not what member reads: decode
		}
		if !found {
			return "", false
		}
		raw = v
	}
	if len(raw) > 0 && raw[0] == '[' {
		return fieldValueDecoded(data, path)
	}
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		s := string(raw[1 : len(raw)-1])
		return s, strings.TrimSpace(s) != ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, strings.TrimSpace(s) != ""
}

// member returns the value of the last member named key of the JSON object
// obj, and whether there is one; ok is false when obj does not look like an
// object (or has an escaped key), for the caller to decode it instead.
func member(obj []byte, key string) (v []byte, found, ok bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false, false
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil, false, true
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return nil, false, false
		}
		end := stringEnd(obj, i)
		if end < 0 {
			return nil, false, false
		}
		k := obj[i+1 : end-1]
		if bytes.IndexByte(k, '\\') >= 0 {
			return nil, false, false
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false, false
		}
		i = skipSpace(obj, i+1)
		vEnd := valueEnd(obj, i)
		if vEnd < 0 {
			return nil, false, false
		}
		if string(k) == key {
			v, found = obj[i:vEnd], true
		}
		i = skipSpace(obj, vEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
			continue
		}
		if i < len(obj) && obj[i] == '}' {
			return v, found, true
		}
		return nil, false, false
	}
	return nil, false, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the offset after the string starting at b[i], or -1.
// Users' strings are long and plain: eight bytes are skipped at a time up
// to a quote, a backslash or a control byte (where the bytes are looked at
// one by one), which took the loader's search for the email from a tenth
// of its time to a few percent.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		if j = swar.SkipPlain(b, j); j >= len(b) {
			break
		}
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the offset after the value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = stringEnd(b, j); j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// fieldValueDecoded is fieldValue by decoding each object on the path.
func fieldValueDecoded(data []byte, path []string) (string, bool) {
	raw := json.RawMessage(data)
	for _, key := range path {
		raw = firstElement(raw)
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return "", false
		}
		var ok bool
		if raw, ok = obj[key]; !ok {
			return "", false
		}
	}
	var s string
	if json.Unmarshal(firstElement(raw), &s) != nil {
		return "", false
	}
	return s, strings.TrimSpace(s) != ""
}

// firstElement is raw's first element when raw is a non-empty JSON array,
// raw itself otherwise.
func firstElement(raw json.RawMessage) json.RawMessage {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return raw
	}
	var items []json.RawMessage
	if json.Unmarshal(trimmed, &items) != nil || len(items) == 0 {
		return nil
	}
	return items[0]
}

// claim takes, for the users of batch, the values that must be unique at
// the target (loader.unique). A user whose value another Gigya account
// holds is dead-lettered, naming that account, and left out: the target
// would refuse it, or merge it into the other. It returns the users to
// write and, for each, its claims, to release if the target refuses it.
// When the register is unreachable the batch is retried later, as after a
// failed write.
func (l *loader) claim(ctx context.Context, batch []jetstream.Msg) ([]jetstream.Msg, [][]claims.Claim) {
	taken := make([][]claims.Claim, len(batch))
	if l.claims == nil || len(batch) == 0 {
		return batch, taken
	}
	var all []claims.Claim
	var fields []uniqueField
	of := make([][]int, len(batch)) // batch index → its claims' indexes in all
	for i, m := range batch {
		uid := m.Headers().Get(message.HdrUID)
		if uid == "" {
			continue
		}
		for _, f := range l.unique {
			v, ok := fieldValue(m.Data(), f.path)
			if !ok {
				continue
			}
			c := claims.Claim{Field: f.name, Value: v, UID: uid, Update: isUpdate(m)}
			taken[i] = append(taken[i], c)
			of[i] = append(of[i], len(all))
			all, fields = append(all, c), append(fields, f)
		}
	}
	if len(all) == 0 {
		return batch, taken
	}
	holders, err := l.claims.Take(ctx, all)
	if err != nil {
		l.log.Warn("the register of unique values is unavailable; the batch will be retried", "records", len(batch), "err", err)
		for _, m := range batch {
			l.retry(m, numDelivered(m))
		}
		return nil, nil
	}
	out, outTaken := batch[:0:0], taken[:0:0]
	var free []claims.Claim
	for i, m := range batch {
		j := slices.IndexFunc(of[i], func(j int) bool { return holders[j] != "" })
		if j < 0 {
			out, outTaken = append(out, m), append(outTaken, taken[i])
			continue
		}
		j = of[i][j]
		// The user's other values, taken in this call, are not its to keep.
		for _, k := range of[i] {
			if holders[k] == "" {
				free = append(free, all[k])
			}
		}
		f, holder := fields[j], holders[j]
		l.conflicts.Add(1)
		l.count(m, "conflicts")
		l.deadLetter(ctx, m, f.code, fmt.Sprintf("%s already belongs to Gigya UID %s at target %s (loaded first); Gigya UID %s has the same %s and is not loaded: merge the two accounts in Gigya, or map another %s for one of them",
			f.name, holder, l.target, all[j].UID, f.name, f.name), nats.Header{message.HdrConflictUID: []string{holder}})
	}
	l.release(ctx, free)
	return out, outTaken
}

// release gives back the values of users the target did not take.
func (l *loader) release(ctx context.Context, cs []claims.Claim) {
	if l.claims == nil || len(cs) == 0 {
		return
	}
	if err := l.claims.Release(ctx, cs); err != nil {
		l.log.Warn("could not release the unique values of users the target refused; another account with one of them will be reported as a conflict", "users", len(cs), "err", err)
	}
}

// claimAtLogin takes the unique values of users migrated at login, which
// the target holds already: a later account with the same email is then a
// conflict, not a second user. A value another account holds is only
// logged (the target has both users now: LoginRadius and Auth0 only run
// their login-time migration for an email they do not hold, so this takes
// an account loaded outside this pipeline); an unreachable register too:
// the users are at the target whatever it says.
func (l *loader) claimAtLogin(ctx context.Context, batch []jetstream.Msg) {
	if l.claims == nil {
		return
	}
	var all []claims.Claim
	for _, m := range batch {
		uid := m.Headers().Get(message.HdrUID)
		for _, f := range l.unique {
			if v, ok := fieldValue(m.Data(), f.path); ok && uid != "" {
				all = append(all, claims.Claim{Field: f.name, Value: v, UID: uid, Update: true})
			}
		}
	}
	if len(all) == 0 {
		return
	}
	holders, err := l.claims.Take(ctx, all)
	if err != nil {
		l.log.Warn("could not claim the unique values of users migrated at login", "users", len(batch), "err", err)
		return
	}
	for i, h := range holders {
		if h != "" {
			l.log.Warn("a user migrated at login has a value another account holds at the target", "uid", all[i].UID, "field", all[i].Field, "holder", h)
		}
	}
}
