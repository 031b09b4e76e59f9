package filesource

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// heapLimit is what reading any input may keep in the heap, far below the
// inputs of TestReadStreamingMemory.
const heapLimit = 64 << 20

// accountWriter writes numbered copies of one account template, so that a
// generator produces hundreds of megabytes quickly and a reader can check the
// order by the UID.
type accountWriter struct {
	head, tail []byte // template around the 8 UID digits
	digits     []byte
}

func newAccountWriter(indentPrefix string) *accountWriter {
	tmpl := account(0, "")
	if indentPrefix != "" {
		tmpl = []byte(reindent(string(tmpl), indentPrefix))
	}
	i := bytes.Index(tmpl, []byte("uid-00000000")) + len("uid-")
	return &accountWriter{head: tmpl[:i], tail: tmpl[i+8:]}
}

func (a *accountWriter) write(w *genWriter, n int) {
	a.digits = fmt.Appendf(a.digits[:0], "%08d", n)
	w.Write(a.head)
	w.Write(a.digits)
	w.Write(a.tail)
}

// genWriter is a buffered writer that knows how much it was given.
type genWriter struct {
	*bufio.Writer
	flushed *countingWriter
}

func newGenWriter(w io.Writer) *genWriter {
	cw := &countingWriter{w: w}
	return &genWriter{Writer: bufio.NewWriterSize(cw, 64<<10), flushed: cw}
}

func (g *genWriter) written() int { return g.flushed.n + g.Buffered() }

type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// uidOf extracts the number of a generated account.
func uidOf(data []byte) string {
	i := bytes.Index(data, []byte("uid-"))
	if i < 0 || i+12 > len(data) {
		return ""
	}
	return string(data[i+4 : i+12])
}

// TestReadStreamingMemory generates inputs of 100-200 MB through an io.Pipe,
// so that they never exist whole, and checks that the heap in use stays under
// heapLimit while every account arrives in order.
func TestReadStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates hundreds of megabytes")
	}
	const (
		arraySize    = 200 << 20
		responseSize = 100 << 20
	)
	tests := []struct {
		name string
		file string
		size int
		gen  func(w *genWriter, size int) int // returns the number of accounts
	}{
		{
			name: "one-line array", file: "big.json", size: arraySize,
			gen: func(w *genWriter, size int) int {
				a := newAccountWriter("")
				w.WriteByte('[')
				n := 0
				for ; w.written() < size; n++ {
					if n > 0 {
						w.WriteByte(',')
					}
					a.write(w, n)
				}
				w.WriteByte(']')
				return n
			},
		},
		{
			name: "pretty-printed single response", file: "big.json", size: responseSize,
			gen: func(w *genWriter, size int) int {
				a := newAccountWriter("    ")
				w.WriteString("{\n  \"callId\": \"x\",\n  \"results\": [\n    ")
				n := 0
				for ; w.written() < size; n++ {
					if n > 0 {
						w.WriteString(",\n    ")
					}
					a.write(w, n)
				}
				fmt.Fprintf(w, "\n  ],\n  \"objectsCount\": %d,\n  \"statusCode\": 200\n}\n", n)
				return n
			},
		},
		{
			name: "gzipped one-line response", file: "big.json.gz", size: responseSize,
			gen: func(w *genWriter, size int) int {
				a := newAccountWriter("")
				w.WriteString(`{"results":[`)
				n := 0
				for ; w.written() < size; n++ {
					if n > 0 {
						w.WriteByte(',')
					}
					a.write(w, n)
				}
				fmt.Fprintf(w, `],"objectsCount":%d}`+"\n", n)
				return n
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := make(chan int, 1)
			r := pipeOf(func(out io.Writer) error {
				var zw *gzip.Writer
				if tt.file == "big.json.gz" {
					zw, _ = gzip.NewWriterLevel(out, gzip.BestSpeed)
					out = zw
				}
				w := newGenWriter(out)
				n := tt.gen(w, tt.size)
				total <- n
				if err := w.Flush(); err != nil {
					return err
				}
				if zw != nil {
					return zw.Close()
				}
				return nil
			})

			runtime.GC()
			var ms runtime.MemStats
			peak := uint64(0)
			sample := func() {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			n := 0
			err := ReadFrom(context.Background(), tt.file, r, func(rec Record) error {
				if rec.Err != nil {
					return fmt.Errorf("%v: %w", rec.Origin, rec.Err)
				}
				if want := fmt.Sprintf("%08d", n); uidOf(rec.Data) != want {
					return fmt.Errorf("%v: account %q, want %s", rec.Origin, uidOf(rec.Data), want)
				}
				if n++; n%1000 == 0 {
					sample()
				}
				return nil
			})
			sample()
			if err != nil {
				t.Fatal(err)
			}
			if want := <-total; n != want {
				t.Fatalf("read %d accounts, want %d", n, want)
			}
			t.Logf("%d accounts, peak HeapInuse %.1f MiB", n, float64(peak)/(1<<20))
			if peak > heapLimit {
				t.Errorf("peak HeapInuse %d MiB, want under %d MiB", peak>>20, heapLimit>>20)
			}
		})
	}
}
