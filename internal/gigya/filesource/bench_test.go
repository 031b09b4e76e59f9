package filesource

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
)

// Measured on the 2-vCPU development machine (Intel Xeon, Go 1.26.8), 50 MB
// of 1.3 KB accounts with non-ASCII text and escapes, -benchtime 20x -count 3:
//
//	BenchmarkReadJSONLines       670-705 MB/s
//	BenchmarkReadArray           710-735 MB/s
//	BenchmarkReadArrayPretty     595-675 MB/s
//	BenchmarkReadArrayGzip       510-530 MB/s (decompression included)
//	BenchmarkStdlibDecoderArray  129 MB/s
//
// The first version validated each record with segmentio's json.Valid and
// reached 112 MB/s (JSON lines) and 130 MB/s (array); see validate.
const benchSize = 50 << 20

// benchInput builds about benchSize bytes of accounts, as JSON lines or as a
// one-line array.
func benchInput(array bool) []byte {
	buf := bytes.NewBuffer(make([]byte, 0, benchSize+4096))
	if array {
		buf.WriteByte('[')
	}
	for i := 0; buf.Len() < benchSize; i++ {
		if array && i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(account(i, ""))
		if !array {
			buf.WriteByte('\n')
		}
	}
	if array {
		buf.WriteByte(']')
	}
	return buf.Bytes()
}

func benchRead(b *testing.B, name string, input []byte) {
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := ReadFrom(context.Background(), name, bytes.NewReader(input), func(r Record) error {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			n++
			return nil
		})
		if err != nil || n == 0 {
			b.Fatal(err, n)
		}
	}
}

func BenchmarkReadJSONLines(b *testing.B) { benchRead(b, "bench.jsonl", benchInput(false)) }
func BenchmarkReadArray(b *testing.B)     { benchRead(b, "bench.json", benchInput(true)) }

func BenchmarkReadArrayPretty(b *testing.B) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, benchInput(true), "", "  "); err != nil {
		b.Fatal(err)
	}
	benchRead(b, "bench.json", buf.Bytes())
}

func BenchmarkReadArrayGzip(b *testing.B) {
	in := benchInput(true)
	b.SetBytes(int64(len(in)))
	z := gzipped(in)
	for b.Loop() {
		if err := ReadFrom(context.Background(), "bench.json.gz", bytes.NewReader(z), func(Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdlibDecoderArray is the alternative the parser was measured
// against: encoding/json's streaming Decoder over the same array, without
// even the line counting.
func BenchmarkStdlibDecoderArray(b *testing.B) {
	input := benchInput(true)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		dec := json.NewDecoder(bytes.NewReader(input))
		if _, err := dec.Token(); err != nil {
			b.Fatal(err)
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				b.Fatal(err)
			}
			_ = dec.InputOffset()
		}
		if _, err := dec.Token(); err != nil && err != io.EOF {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAndIdentify is the extractor's reading of a file: each
// record read, then its key. "members" identifies it from the key members
// the reader noted while validating (Record.Key); "full" decodes the key
// from the whole account (gigya.Identify). Counted with cachegrind: 1,440M
// instructions per 50 MB with the members; a second scan of each account
// for them, the extractor's way before, took 2,390M.
func BenchmarkReadAndIdentify(b *testing.B) {
	input := benchInput(false)
	for _, c := range []struct {
		name     string
		identify func(r Record) (gigya.Key, error)
	}{
		{"members", func(r Record) (gigya.Key, error) { return gigya.IdentifyMembers(r.Key, r.Data) }},
		{"full", func(r Record) (gigya.Key, error) { return gigya.Identify(r.Data) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(input)))
			b.ReportAllocs()
			for b.Loop() {
				err := ReadFrom(context.Background(), "bench.jsonl", bytes.NewReader(input), func(r Record) error {
					if _, err := c.identify(r); err != nil {
						b.Fatal(err)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
