// Package journal is the crash-safe memory of the file sinks: an
// append-only file of the batches a sink stored, each entry with the hashed
// MsgIDs of its users, so that a sink restarted after a crash knows which
// redelivered users it already wrote, and where its last complete write
// ended.
//
// A sink makes a batch's data durable first and appends its entry second.
// An entry therefore never describes data that is not on disk, and data
// without an entry belongs to a Write that never returned: none of its
// users were acked, all of them will come again, so the sink discards that
// data on open. An entry is one write followed by fsync, framed and
// checksummed: a torn entry at the end of the file is a Write that never
// returned and is cut off on open; a damaged entry before others is
// corruption and stops the sink.
//
// Memory and the file stay bounded. A redelivery concerns a user whose ack
// was lost; the sink stored it shortly before (within the consumer's
// ack_wait), so the journal remembers the MsgIDs of the last Window users
// the sink stored, plus the last Window it found on open (the in-flight
// batches of a crashed run, whose redeliveries arrive while the new run
// already stores more). When the file holds more than three windows of
// IDs it is rewritten down to what is remembered.
//
// IDs are 8 bytes of SHA-256 of the MsgID: with a window of 200,000 (and
// as many found on open) the chance that a new user is taken for a stored
// one, and skipped, is about 2e-14 per user.
package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
)

// DefaultWindow is how many recent MsgIDs a sink remembers by default.
const DefaultWindow = 200_000

// magic starts every journal file; the digit is the format version.
const magic = "GMJRNL01"

// frame is an entry's header: payload length and CRC-32C of the payload.
const frame = 8

// checksum is CRC-32C; MakeTable returns the package's cached table.
func checksum(p []byte) uint32 { return crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli)) }

// ID is the key a MsgID is remembered by.
func ID(msgID string) uint64 {
	sum := sha256.Sum256([]byte(msgID))
	return binary.LittleEndian.Uint64(sum[:8])
}

// Entry is one batch a sink stored.
type Entry struct {
	// Name is the data file the entry confirms, for a sink that writes a
	// file per batch; empty when the entry needs no file (a rewritten
	// journal's summary, or a sink with a single data file).
	Name string
	// Length is the sink's: the data file's length after the batch (jsonl),
	// or the size of the file Name (auth0-file).
	Length int64
	// IDs are the batch's stored users (see [ID]).
	IDs []uint64
}

// Journal is an open journal. It is not safe for concurrent use: the sinks
// serialize their writes.
type Journal struct {
	path      string
	f         *os.File
	sync      bool
	window    int
	size      int64 // length of the file's valid part
	inFile    int   // IDs in the file
	last      Entry // the last entry appended, without IDs
	hasLast   bool
	broken    error // set when the file could not be restored after a failed append
	pinned    map[uint64]struct{}
	recent    map[uint64]struct{}
	ring      []uint64 // recent, oldest first from next once full
	next      int
	scratch   []byte
	compactAt int
}

// Open opens the journal at path, creating it if missing. window is the
// number of recent IDs to remember (0: [DefaultWindow]); sync fsyncs every
// append. valid reports whether an entry's data is still there (nil: every
// entry's is); of the most recent window IDs in the file, those of valid
// entries are remembered.
func Open(path string, window int, sync bool, valid func(Entry) bool) (*Journal, error) {
	if window <= 0 {
		window = DefaultWindow
	}
	j := &Journal{path: path, sync: sync, window: window, compactAt: 3 * window,
		pinned: map[uint64]struct{}{}, recent: map[uint64]struct{}{}}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j.f = f
	entries, err := j.load()
	if err != nil {
		f.Close()
		return nil, err
	}
	// The most recent window of IDs (an entry lists its IDs oldest first).
	n := 0
	for i := len(entries) - 1; i >= 0 && n < window; i-- {
		e := entries[i]
		ids := e.IDs[len(e.IDs)-min(len(e.IDs), window-n):]
		n += len(ids)
		if valid != nil && !valid(e) {
			continue
		}
		for _, id := range ids {
			j.pinned[id] = struct{}{}
		}
	}
	if j.inFile > j.compactAt {
		if err := j.compact(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return j, nil
}

// load reads the file, cuts off a torn last entry and returns the entries.
func (j *Journal) load() ([]Entry, error) {
	data, err := io.ReadAll(j.f)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", j.path, err)
	}
	if len(data) < len(magic) {
		if !bytes.HasPrefix([]byte(magic), data) {
			return nil, fmt.Errorf("journal %s: not a journal file", j.path)
		}
		// New, or created by a run that died before the header was
		// durable: nothing was written through it.
		if err := j.f.Truncate(0); err != nil {
			return nil, fmt.Errorf("journal %s: %w", j.path, err)
		}
		if _, err := j.f.Write([]byte(magic)); err != nil {
			return nil, fmt.Errorf("journal %s: %w", j.path, err)
		}
		j.size = int64(len(magic))
		return nil, j.syncNew()
	}
	if string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("journal %s: not a journal file (or a newer format)", j.path)
	}
	var entries []Entry
	off := len(magic)
	for off < len(data) {
		e, n, err := decode(data[off:])
		if err != nil {
			// A crash can leave the file longer than what was written,
			// the rest zeros: that too is a torn end, not damage.
			if off+n < len(data) && !allZero(data[off:]) {
				return nil, fmt.Errorf("journal %s: damaged at byte %d (%w) with entries after it: move it aside to start a new one (users written before may then be written again)", j.path, off, err)
			}
			// A torn last entry: its Write never returned.
			if err := j.f.Truncate(int64(off)); err != nil {
				return nil, fmt.Errorf("journal %s: cutting a torn entry: %w", j.path, err)
			}
			if err := j.f.Sync(); err != nil {
				return nil, fmt.Errorf("journal %s: %w", j.path, err)
			}
			break
		}
		entries = append(entries, e)
		j.inFile += len(e.IDs)
		off += n
	}
	j.size = int64(min(off, len(data)))
	if len(entries) > 0 {
		j.last, j.hasLast = Entry{Name: entries[len(entries)-1].Name, Length: entries[len(entries)-1].Length}, true
	}
	return entries, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// decode reads one entry from b and returns it with the bytes it spans.
// On error, the span is how far a well-framed entry would reach (at least
// the rest of b when the frame itself is cut).
func decode(b []byte) (Entry, int, error) {
	if len(b) < frame {
		return Entry{}, len(b), errors.New("cut entry header")
	}
	n := int(binary.LittleEndian.Uint32(b))
	end := frame + n
	if n > len(b)-frame {
		return Entry{}, len(b), errors.New("cut entry")
	}
	p := b[frame:end]
	if checksum(p) != binary.LittleEndian.Uint32(b[4:]) {
		return Entry{}, end, errors.New("checksum mismatch")
	}
	if len(p) < 8+2 {
		return Entry{}, end, errors.New("short entry")
	}
	e := Entry{Length: int64(binary.LittleEndian.Uint64(p))}
	nameLen := int(binary.LittleEndian.Uint16(p[8:]))
	p = p[10:]
	if len(p) < nameLen+4 {
		return Entry{}, end, errors.New("short entry")
	}
	e.Name, p = string(p[:nameLen]), p[nameLen:]
	count := int(binary.LittleEndian.Uint32(p))
	p = p[4:]
	if len(p) != 8*count {
		return Entry{}, end, errors.New("entry size does not match its IDs")
	}
	e.IDs = make([]uint64, count)
	for i := range e.IDs {
		e.IDs[i] = binary.LittleEndian.Uint64(p[8*i:])
	}
	return e, end, nil
}

func encode(buf []byte, e Entry) []byte {
	start := len(buf)
	buf = binary.LittleEndian.AppendUint32(buf, 0) // length, set below
	buf = binary.LittleEndian.AppendUint32(buf, 0) // checksum, set below
	buf = binary.LittleEndian.AppendUint64(buf, uint64(e.Length))
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(e.Name)))
	buf = append(buf, e.Name...)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(e.IDs)))
	for _, id := range e.IDs {
		buf = binary.LittleEndian.AppendUint64(buf, id)
	}
	p := buf[start+frame:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(p)))
	binary.LittleEndian.PutUint32(buf[start+4:], checksum(p))
	return buf
}

// Last returns the last entry appended (without its IDs), and false when
// the journal has none: it is new.
func (j *Journal) Last() (Entry, bool) { return j.last, j.hasLast }

// Seen reports whether id is remembered as stored.
func (j *Journal) Seen(id uint64) bool {
	if _, ok := j.recent[id]; ok {
		return true
	}
	_, ok := j.pinned[id]
	return ok
}

// Append makes e durable (with sync) after the data it describes is. It
// does not remember e's IDs: the sink calls [Journal.Remember] once the
// data is final. On error the file is cut back to before e.
func (j *Journal) Append(e Entry) error {
	if j.broken != nil {
		return j.broken
	}
	if len(e.Name) > math.MaxUint16 || len(e.IDs) > math.MaxUint32/8 {
		return fmt.Errorf("journal %s: entry too large", j.path)
	}
	j.scratch = encode(j.scratch[:0], e)
	_, err := j.f.Write(j.scratch)
	if err == nil && j.sync {
		err = j.f.Sync()
	}
	if err != nil {
		if terr := j.f.Truncate(j.size); terr != nil {
			j.broken = fmt.Errorf("journal %s: append failed (%w) and the file could not be restored (%v): restart the loader", j.path, err, terr)
			return j.broken
		}
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	j.size += int64(len(j.scratch))
	j.inFile += len(e.IDs)
	j.last, j.hasLast = Entry{Name: e.Name, Length: e.Length}, true
	return nil
}

// Remember adds ids to the window of stored users, forgetting the oldest
// beyond it. It rewrites the journal when the file grew past three windows;
// an error then leaves the journal as it was, still correct, only larger.
func (j *Journal) Remember(ids []uint64) error {
	for _, id := range ids {
		if _, ok := j.recent[id]; ok {
			continue
		}
		if len(j.ring) < j.window {
			j.ring = append(j.ring, id)
		} else {
			delete(j.recent, j.ring[j.next])
			j.ring[j.next] = id
			j.next = (j.next + 1) % j.window
		}
		j.recent[id] = struct{}{}
	}
	if j.inFile > j.compactAt && j.broken == nil {
		return j.compact()
	}
	return nil
}

// compact replaces the file by one entry holding what is remembered, with
// the last entry's Length: written beside it, fsynced, renamed over it.
func (j *Journal) compact() error {
	ids := make([]uint64, 0, len(j.pinned)+len(j.ring))
	for id := range j.pinned {
		if _, ok := j.recent[id]; !ok {
			ids = append(ids, id)
		}
	}
	ids = append(ids, j.ring[j.next:]...)
	ids = append(ids, j.ring[:j.next]...)
	buf := encode([]byte(magic), Entry{Length: j.last.Length, IDs: ids})
	tmp := j.path + ".tmp"
	err := os.WriteFile(tmp, buf, 0o600)
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("journal %s: rewriting: %w", j.path, err)
	}
	if err := SyncDir(filepath.Dir(j.path)); err != nil {
		return fmt.Errorf("journal %s: rewriting: %w", j.path, err)
	}
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		// The renamed file is complete; only appending through it failed.
		j.broken = fmt.Errorf("journal %s: reopening after a rewrite: %w", j.path, err)
		return j.broken
	}
	j.f.Close()
	j.f, j.size, j.inFile = f, int64(len(buf)), len(ids)
	j.last.Name = ""
	return nil
}

// syncNew makes a new journal's header and directory entry durable.
func (j *Journal) syncNew() error {
	if !j.sync {
		return nil
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return SyncDir(filepath.Dir(j.path))
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// SyncDir makes the entries of dir durable (a new, renamed or linked file),
// not only the files' data.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close closes the file; the journal stays as it is on disk.
func (j *Journal) Close() error { return j.f.Close() }
