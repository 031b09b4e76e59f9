// Package message is the wire contract between the stages
// (docs/architecture.md): subjects, header names, deterministic message ids
// and dead letters. Payloads stay plain JSON; all metadata travels in headers
// so that any NATS client can read the streams.
package message

import (
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Header names.
const (
	HdrMsgID          = jetstream.MsgIDHeader // Nats-Msg-Id: the server drops repeats inside the duplicate window
	HdrUID            = "Gigya-UID"
	HdrSite           = "Gigya-Site"
	HdrLastUpdated    = "Gigya-Last-Updated" // lastUpdatedTimestamp, ms since the epoch
	HdrRun            = "Etl-Run"
	HdrMappingVersion = "Mapping-Version"
	HdrSourceSeq      = "Source-Seq" // stream sequence of the RAW message a MAPPED one came from

	HdrStage         = "Etl-Stage"
	HdrErrorCode     = "Etl-Error-Code"
	HdrError         = "Etl-Error"
	HdrSourceSubject = "Etl-Source-Subject"
	HdrSourceSeqDL   = "Etl-Source-Seq"
	HdrAttempts      = "Etl-Attempts"
	HdrSourceFile    = "Etl-Source-File" // extract stage: the input file
	HdrSourceLine    = "Etl-Source-Line"
	HdrSourceOffset  = "Etl-Source-Offset"
	HdrField         = "Etl-Field" // transform stage: the mapping field that failed
	// HdrConflictUID names, on a load dead letter for a value that must be
	// unique at the target (code email_conflict), the Gigya UID holding it.
	HdrConflictUID = "Etl-Conflict-UID"

	// HdrRedriven counts how many times a record was sent back to its
	// source subject from the dead-letter stream. Stages copy it into the
	// dead letter when the record fails again, so a redrive loop shows.
	HdrRedriven = "Etl-Redriven"
	// HdrTruncated marks a dead letter whose payload was cut to fit the
	// server's max payload; the value is the input's size in bytes.
	HdrTruncated = "Etl-Truncated"
	// HdrUpdate marks an account that may already be at the target: an
	// incremental extraction (changes during the cut-over) or one run with
	// -update. Loaders apply it as an update (upsert), like a replay.
	HdrUpdate = "Etl-Update"
	// HdrReplay names the replay (transformer replay) that produced a mapped
	// user; loaders apply such users as updates (upsert).
	HdrReplay = "Etl-Replay"
	// HdrLoginMigrated marks an account the login service moved to the
	// target at the user's login (docs/login-migration.md); the value is the
	// target. The target holds the user already: loaders record the user as
	// migrated at login and write neither this message nor any later
	// version of the user (a bulk run, an update, a replay).
	HdrLoginMigrated = "Etl-Login-Migrated"
)

// Stages, as they appear in dead-letter subjects and the Etl-Stage header.
const (
	StageExtract   = "extract"
	StageTransform = "transform"
	StageLoad      = "load"
)

// RawSubject is where the extractor publishes the accounts of site.
func RawSubject(site string) string { return "gigya.accounts." + site }

// MappedSubject is where the transformer publishes users for target.
func MappedSubject(target string) string { return "users.mapped." + target }

// DeadLetterSubject is where stage parks what it could not process. For the
// extract stage, which has no target yet, the last token is the site.
func DeadLetterSubject(stage, target string) string {
	return "etl.deadletter." + stage + "." + target
}

// RawMsgID identifies one version of one account: re-extracting it, or
// redelivering the publish, within the duplicate window stores it once.
func RawMsgID(site, uid, lastUpdated string) string {
	return site + ":" + uid + ":" + lastUpdated
}

// LoginMsgID identifies the raw account the login service publishes for a
// user it migrated: its own id, so that the duplicate window never drops it
// as a copy of the same version extracted in bulk (without its mark).
func LoginMsgID(site, uid, lastUpdated string) string {
	return "login:" + RawMsgID(site, uid, lastUpdated)
}

// MappedMsgID identifies one version of one account mapped by one mapping
// version, so that a replay after a mapping fix produces new messages while
// a redelivered input produces a duplicate the server drops.
func MappedMsgID(target, uid, lastUpdated, mappingVersion string) string {
	return target + ":" + uid + ":" + lastUpdated + ":" + mappingVersion
}

// TransformDeadLetterID is the Nats-Msg-Id of the dead letter of a failed
// mapping: one per user, version and mapping version. redriven is the
// Etl-Redriven count of the input that failed ("" for none): a redrive
// deletes the dead letter it sends back, so a new failure of that copy
// must not reuse the deleted one's id, which the duplicate window would
// drop.
func TransformDeadLetterID(target, uid, lastUpdated, mappingVersion, redriven string) string {
	id := "dl:" + StageTransform + ":" + target + ":" + uid + ":" + lastUpdated + ":" + mappingVersion
	if redriven != "" {
		id += ":redriven-" + redriven
	}
	return id
}

// DeadLetter describes an input that a stage gave up on.
type DeadLetter struct {
	Stage, Target string
	Code          string // stable, machine-readable (fault codes)
	Err           string // human-readable
	UID           string // "" when the input had none
	SourceSubject string
	SourceSeq     uint64
	Attempts      int
	Data          []byte      // the input, unchanged
	Extra         nats.Header // stage-specific context (file/line, field)
	ID            string      // deterministic Nats-Msg-Id; see [DeadLetter.MsgID]
}

// Msg builds the dead-letter message.
func (d DeadLetter) Msg() *nats.Msg {
	m := nats.NewMsg(DeadLetterSubject(d.Stage, d.Target))
	m.Data = d.Data
	for k, vs := range d.Extra {
		for _, v := range vs {
			m.Header.Add(k, HeaderValue(v))
		}
	}
	m.Header.Set(HdrStage, d.Stage)
	m.Header.Set(HdrErrorCode, d.Code)
	m.Header.Set(HdrError, HeaderValue(d.Err))
	if d.UID != "" {
		m.Header.Set(HdrUID, d.UID)
	}
	if d.SourceSubject != "" {
		m.Header.Set(HdrSourceSubject, d.SourceSubject)
	}
	if d.SourceSeq != 0 {
		m.Header.Set(HdrSourceSeqDL, strconv.FormatUint(d.SourceSeq, 10))
	}
	if d.Attempts > 0 {
		m.Header.Set(HdrAttempts, strconv.Itoa(d.Attempts))
	}
	if id := d.MsgID(); id != "" {
		m.Header.Set(HdrMsgID, id)
	}
	return m
}

// truncatedKeep is how much of an input too large for a dead letter is
// kept: enough to recognise the record, small enough for any server.
const truncatedKeep = 64 << 10

// MsgWithin is [DeadLetter.Msg] for a server whose max payload is
// maxPayload bytes (0: no limit): an input too large to travel whole (the
// reason it failed, often) is cut to its first 64 KiB and marked
// Etl-Truncated with its size, so that the failure is recorded instead of
// failing to publish forever.
func (d DeadLetter) MsgWithin(maxPayload int64) *nats.Msg {
	m := d.Msg()
	if maxPayload <= 0 || int64(len(m.Data)+headerSize(m.Header)) <= maxPayload {
		return m
	}
	keep := min(int64(truncatedKeep), maxPayload-int64(headerSize(m.Header))-256)
	m.Header.Set(HdrTruncated, strconv.Itoa(len(m.Data)))
	m.Data = m.Data[:max(keep, 0)]
	return m
}

// Fits reports whether a message with data and headers h fits a server
// whose max payload is maxPayload (0: no limit).
func Fits(data []byte, h nats.Header, maxPayload int64) bool {
	return maxPayload <= 0 || int64(len(data)+headerSize(h)) <= maxPayload
}

// headerSize is the size of h on the wire (NATS/1.0 line, "k: v" lines).
func headerSize(h nats.Header) int {
	n := len("NATS/1.0\r\n\r\n")
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// MsgID is ID if set, otherwise derived from the source message, so that a
// redelivered failure is dead-lettered once.
func (d DeadLetter) MsgID() string {
	if d.ID != "" {
		return d.ID
	}
	if d.SourceSubject == "" || d.SourceSeq == 0 {
		return ""
	}
	return "dl:" + d.Stage + ":" + d.Target + ":" + d.SourceSubject + ":" + strconv.FormatUint(d.SourceSeq, 10)
}

// maxHeaderValue caps error text: headers are not meant for stack dumps.
const maxHeaderValue = 1024

// HeaderValue makes s safe as a header value: one line, bounded length.
func HeaderValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxHeaderValue {
		s = s[:maxHeaderValue-3] + "..."
	}
	return s
}
