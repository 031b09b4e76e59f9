package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func open(t *testing.T, path string, window int, valid func(Entry) bool) *Journal {
	t.Helper()
	j, err := Open(path, window, true, valid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// store appends an entry and remembers its IDs, as a sink does.
func store(t *testing.T, j *Journal, e Entry) {
	t.Helper()
	if err := j.Append(e); err != nil {
		t.Fatal(err)
	}
	if err := j.Remember(e.IDs); err != nil {
		t.Fatal(err)
	}
}

func TestReopenRemembersWhatWasStored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j := open(t, path, 0, nil)
	if _, ok := j.Last(); ok {
		t.Fatal("a new journal has no last entry")
	}
	store(t, j, Entry{Length: 10, IDs: []uint64{ID("a"), ID("b")}})
	store(t, j, Entry{Length: 25, IDs: []uint64{ID("c")}})
	if !j.Seen(ID("a")) || j.Seen(ID("d")) {
		t.Fatal("Seen before reopening")
	}
	j.Close() // a crash: nothing more is written on close

	j = open(t, path, 0, nil)
	if last, ok := j.Last(); !ok || last.Length != 25 {
		t.Fatalf("last entry %+v %v, want length 25", last, ok)
	}
	for _, id := range []string{"a", "b", "c"} {
		if !j.Seen(ID(id)) {
			t.Fatalf("%s forgotten across a reopen", id)
		}
	}
	if j.Seen(ID("d")) {
		t.Fatal("d was never stored")
	}
}

// An entry the sink appended but whose data is gone (valid says so) does
// not count: those users are written again.
func TestEntriesWithoutTheirDataAreIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j := open(t, path, 0, nil)
	store(t, j, Entry{Name: "kept", IDs: []uint64{ID("a")}})
	store(t, j, Entry{Name: "gone", IDs: []uint64{ID("b")}})
	j.Close()
	j = open(t, path, 0, func(e Entry) bool { return e.Name != "gone" })
	if !j.Seen(ID("a")) || j.Seen(ID("b")) {
		t.Fatalf("seen a %v, b %v; want only a", j.Seen(ID("a")), j.Seen(ID("b")))
	}
}

// A crash in the middle of an append leaves a torn entry at the end: it is
// cut off, and the journal works on.
func TestTornEndIsCutOff(t *testing.T) {
	for name, tail := range map[string]func(entry []byte) []byte{
		"cut entry":    func(e []byte) []byte { return e[:len(e)-3] },
		"cut header":   func(e []byte) []byte { return e[:5] },
		"zeros":        func(e []byte) []byte { return make([]byte, 64) },
		"bad checksum": func(e []byte) []byte { e[len(e)-1] ^= 0xff; return e },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j")
			j := open(t, path, 0, nil)
			store(t, j, Entry{Length: 7, IDs: []uint64{ID("a")}})
			j.Close()
			size := fileSize(t, path)
			appendBytes(t, path, tail(encode(nil, Entry{Length: 99, IDs: []uint64{ID("b")}})))

			j = open(t, path, 0, nil)
			if last, _ := j.Last(); last.Length != 7 || j.Seen(ID("b")) || !j.Seen(ID("a")) {
				t.Fatalf("last %+v, seen b %v: the torn entry must not count", last, j.Seen(ID("b")))
			}
			if got := fileSize(t, path); got != size {
				t.Fatalf("file is %d bytes, want the torn end cut back to %d", got, size)
			}
			store(t, j, Entry{Length: 8, IDs: []uint64{ID("c")}})
			j.Close()
			if j = open(t, path, 0, nil); !j.Seen(ID("c")) {
				t.Fatal("an entry appended after the cut is lost")
			}
		})
	}
}

// Damage before other entries is not a crash: the journal refuses to guess.
func TestDamageBeforeOtherEntriesIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j := open(t, path, 0, nil)
	store(t, j, Entry{Length: 1, IDs: []uint64{ID("a")}})
	store(t, j, Entry{Length: 2, IDs: []uint64{ID("b")}})
	j.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(magic)+frame+1] ^= 0xff // inside the first entry's payload
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, 0, true, nil); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("got %v, want a damaged-journal error", err)
	}
}

func TestNotAJournalIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	if err := os.WriteFile(path, []byte(`{"user_id":"x"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, 0, true, nil); err == nil {
		t.Fatal("a file that is not a journal was opened")
	}
}

func TestWindowForgetsTheOldest(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "j"), 3, nil)
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		store(t, j, Entry{IDs: []uint64{ID(id)}})
	}
	for id, want := range map[string]bool{"1": false, "2": false, "3": true, "4": true, "5": true} {
		if j.Seen(ID(id)) != want {
			t.Fatalf("Seen(%s) = %v, want %v", id, !want, want)
		}
	}
}

// The file is rewritten down to the window when it grows past three, and
// what a reopen needs survives the rewrite.
func TestRewriteBoundsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	const window = 10
	j := open(t, path, window, nil)
	var largest int64
	for i := range 200 {
		store(t, j, Entry{Length: int64(i), IDs: []uint64{ID(fmt.Sprint(i))}})
		largest = max(largest, fileSize(t, path))
	}
	// Three windows of 8-byte IDs, each entry framed, and the header.
	if limit := int64(len(magic) + 3*window*(frame+8+2+4+8) + frame + 8 + 2 + 4 + 8*2*window); largest > limit {
		t.Fatalf("journal grew to %d bytes, want at most %d", largest, limit)
	}
	last := ID("199")
	j.Close()
	j = open(t, path, window, nil)
	if l, _ := j.Last(); l.Length != 199 || !j.Seen(last) {
		t.Fatalf("after rewrites and a reopen: last %+v, newest ID seen %v", l, j.Seen(last))
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}
