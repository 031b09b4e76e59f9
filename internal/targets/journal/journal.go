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
	"bufio"
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
	broken    error    // set when the file could not be restored after a failed append
	pinned    idSet    // the last window found on open; never grows
	recent    idSet    // the IDs in ring, sized for the window at open
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
	// Both the ring and the set are made at their final size: the set's
	// table is touched all over from the first users on, so its footprint
	// is the same whether the run stores 100,000 users or millions; the
	// ring's pages become resident only as it fills.
	j := &Journal{path: path, sync: sync, window: window, compactAt: 3 * window,
		recent: newIDSet(window), ring: make([]uint64, 0, window)}
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
	var keep [][]uint64
	n, kept := 0, 0
	for i := len(entries) - 1; i >= 0 && n < window; i-- {
		e := entries[i]
		ids := e.IDs[len(e.IDs)-min(len(e.IDs), window-n):]
		n += len(ids)
		if valid != nil && !valid(e) {
			continue
		}
		keep = append(keep, ids)
		kept += len(ids)
	}
	j.pinned = newIDSet(kept)
	for _, ids := range keep {
		for _, id := range ids {
			j.pinned.add(id)
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
	return j.recent.has(id) || j.pinned.has(id)
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
		if j.recent.has(id) {
			continue
		}
		if len(j.ring) < j.window {
			j.ring = append(j.ring, id)
		} else {
			j.recent.remove(j.ring[j.next])
			j.ring[j.next] = id
			j.next = (j.next + 1) % j.window
		}
		j.recent.add(id)
	}
	if j.inFile > j.compactAt && j.broken == nil {
		return j.compact()
	}
	return nil
}

// compact replaces the file by one entry holding what is remembered, with
// the last entry's Length: written beside it, fsynced, renamed over it. The
// entry is streamed in two passes over the IDs (checksum, then write)
// rather than built in memory: it holds up to two windows of IDs, and a
// buffer that size at every rewrite would be the sink's largest allocation.
func (j *Journal) compact() error {
	ids := func(yield func(uint64)) {
		j.pinned.each(func(id uint64) {
			if !j.recent.has(id) {
				yield(id)
			}
		})
		for _, id := range j.ring[j.next:] {
			yield(id)
		}
		for _, id := range j.ring[:j.next] {
			yield(id)
		}
	}
	count := 0
	ids(func(uint64) { count++ })
	tmp := j.path + ".tmp"
	size, err := writeSummary(tmp, j.last.Length, count, ids)
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
	j.f, j.size, j.inFile = f, size, count
	j.last.Name = ""
	return nil
}

// writeSummary writes a journal file at path holding one nameless entry
// (the format of [encode]) with length and the count IDs that ids yields,
// fsynced, and returns its size.
func writeSummary(path string, length int64, count int, ids func(yield func(uint64))) (int64, error) {
	head := binary.LittleEndian.AppendUint64(nil, uint64(length))
	head = binary.LittleEndian.AppendUint16(head, 0)
	head = binary.LittleEndian.AppendUint32(head, uint32(count))
	table := crc32.MakeTable(crc32.Castagnoli)
	sum := crc32.Update(0, table, head)
	var chunk []byte
	ids(func(id uint64) {
		chunk = binary.LittleEndian.AppendUint64(chunk, id)
		if len(chunk) >= 64<<10 {
			sum = crc32.Update(sum, table, chunk)
			chunk = chunk[:0]
		}
	})
	sum = crc32.Update(sum, table, chunk)

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 64<<10)
	w.WriteString(magic)
	var frameHead [frame]byte
	binary.LittleEndian.PutUint32(frameHead[:], uint32(len(head)+8*count))
	binary.LittleEndian.PutUint32(frameHead[4:], sum)
	w.Write(frameHead[:])
	w.Write(head)
	var b [8]byte
	ids(func(id uint64) {
		binary.LittleEndian.PutUint64(b[:], id)
		w.Write(b[:]) // a write error is kept by w and returned by Flush
	})
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return int64(len(magic) + frame + len(head) + 8*count), nil
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
