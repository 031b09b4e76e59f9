package filesource

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func indent(s string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		panic(err)
	}
	return buf.String()
}

func compact(s string) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		panic(err)
	}
	return buf.String()
}

// Accounts used by the format tests. b holds the characters that trip naive
// scanners: escaped quotes and backslashes, brackets inside strings, a nested
// "results" key, non-ASCII text and \u escapes.
const (
	accA = `{"UID":"a","profile":{"email":"a@example.com"}}`
	accB = `{"UID":"b","data":{"note":"he said \"}]\" \\","results":[1,2],"n":[1,-2.5e3,true,false,null]},"name":"Müller \u00e9\ud83d\ude00"}`
	accC = `{"UID":"c"}`
)

// TestReadFormats reads every supported format, plain and gzipped, and checks
// the records in order. readAll checks each record's offset, line and bytes
// against the input, so Data here pins the origin too.
func TestReadFormats(t *testing.T) {
	response := func(accs ...string) string {
		return `{"results":[` + strings.Join(accs, ",") + `],"objectsCount":` + fmt.Sprint(len(accs)) +
			`,"totalCount":1032,"nextCursorId":"cur,sor]","statusCode":200,"errorCode":0,"statusReason":"OK",` +
			`"callId":"ad24d124","time":"2017-05-04T09:14:35.008Z"}`
	}
	metaFirst := `{"callId":"x","objectsCount":1,"context":{"results":"not this one"},"results":[` + accC + `],"errorCode":0}`
	big := string(account(7, "  "))
	tests := []struct {
		name string
		file string // decides JSON lines when it says .jsonl
		give string
		want []string // Data of the records, all good
	}{
		{name: "array one line", give: `[` + accA + `,` + accB + `,` + accC + `]`, want: []string{accA, accB, accC}},
		{name: "array pretty", give: indent(`[` + accA + `,` + accB + `,` + accC + `]`),
			want: []string{reindent(accA, "  "), reindent(accB, "  "), reindent(accC, "  ")}},
		{name: "array of realistic pretty accounts", give: "[\n" + big + ",\n" + big + "\n]\n", want: []string{big, big}},
		{name: "array empty", give: " [ ] ", want: nil},
		{name: "JSON lines", give: accA + "\n" + accB + "\n" + accC + "\n", want: []string{accA, accB, accC}},
		{name: "JSON lines without final newline", give: accA + "\n" + accC, want: []string{accA, accC}},
		{name: "JSON lines blank lines and CRLF", give: "\r\n\n" + accA + "\r\n   \r\n\t\n" + accB + " \t\r\n\n" + accC,
			want: []string{accA, accB, accC}},
		{name: "JSON lines by name", file: "x.ndjson", give: accA + "\n" + accC + "\n", want: []string{accA, accC}},
		{name: "JSON lines with byte order mark", give: "\xef\xbb\xbf" + accA + "\n" + accC + "\n", want: []string{accA, accC}},
		{name: "single response pretty", give: indent(response(accA, accB, accC)),
			want: []string{reindent(accA, "    "), reindent(accB, "    "), reindent(accC, "    ")}},
		{name: "single response one line", give: response(accA, accB), want: []string{accA, accB}},
		{name: "single response empty", give: indent(response()), want: nil},
		{name: "response with results after other members", give: indent(metaFirst), want: []string{reindent(accC, "    ")}},
		{name: "responses as JSON lines", give: response(accA) + "\n" + metaFirst + "\n" + response(accB, accC) + "\n",
			want: []string{accA, accC, accB, accC}},
		{name: "array of responses", give: indent(`[` + response(accA) + `,` + metaFirst + `,` + response(accB) + `]`),
			want: []string{reindent(accA, "      "), reindent(accC, "      "), reindent(accB, "      ")}},
		{name: "array mixing responses and accounts", give: `[` + response(accA) + `,` + accC + `]`, want: []string{accA, accC}},
		{name: "response inside results is an account", give: response(`{"results":[]}`), want: []string{`{"results":[]}`}},
		{name: "single account pretty", give: indent(accB), want: []string{indent(accB)}},
		{name: "pretty documents one after another", give: indent(accA) + "\n" + indent(response(accC)),
			want: []string{indent(accA), reindent(accC, "    ")}},
		{name: "empty file", give: "", want: nil},
		{name: "blank file", give: " \n\r\n", want: nil},
	}
	for _, tt := range tests {
		for _, gz := range []bool{false, true} {
			name, file, input := tt.name, tt.file, []byte(tt.give)
			if file == "" {
				file = "x.json"
			}
			if gz {
				name, file, input = name+" gzipped", file+".gz", gzipped(input)
			}
			t.Run(name, func(t *testing.T) {
				recs, err := readAll(t, file, input, []byte(tt.give))
				if err != nil {
					t.Fatalf("ReadFrom: %v", err)
				}
				var data []string
				for _, r := range recs {
					if r.Err != nil {
						t.Errorf("%v: unexpected bad record: %v", r.Origin, r.Err)
					}
					if r.Origin.File != file {
						t.Errorf("Origin.File = %q, want %q", r.Origin.File, file)
					}
					data = append(data, string(r.Data))
				}
				if fmt.Sprintf("%q", data) != fmt.Sprintf("%q", tt.want) {
					t.Errorf("records\n got  %q\n want %q", data, tt.want)
				}
			})
		}
	}
}

// reindent is how json.Indent prints v nested at prefix.
func reindent(v, prefix string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(v), prefix, "  "); err != nil {
		panic(err)
	}
	return buf.String()
}

// TestReadBadInput pins the bad-input policy: what is reported, where, and
// where reading resumes.
func TestReadBadInput(t *testing.T) {
	tests := []struct {
		name string
		file string
		give string
		want []got
	}{
		{
			name: "JSON lines broken line",
			give: "{\"UID\":\"a\"}\n{\"UID\":\"b\",\n{\"UID\":\"c\"}\n",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 0},
				{Data: `{"UID":"b",`, Line: 2, Off: 12, Err: ErrInvalidJSON},
				{Data: `{"UID":"c"}`, Line: 3, Off: 24},
			},
		},
		{
			name: "JSON lines broken lines with CRLF and garbage",
			file: "x.jsonl",
			give: "{\"UID\":\"a\"}\r\n{\"UID\" \"b\"}\r\nnot json\r\n\r\n{\"UID\":\"c\"} {\"UID\":\"d\"}\r\n{\"a\":\"\\x\"}\r\n{\"UID\":\"e\"}",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 0},
				{Data: `{"UID" "b"}`, Line: 2, Off: 13, Err: ErrInvalidJSON},
				{Data: `not json`, Line: 3, Off: 26, Err: ErrInvalidJSON},
				{Data: `{"UID":"c"} {"UID":"d"}`, Line: 5, Off: 38, Err: ErrInvalidJSON},
				{Data: `{"a":"\x"}`, Line: 6, Off: 63, Err: ErrInvalidJSON},
				{Data: `{"UID":"e"}`, Line: 7, Off: 75},
			},
		},
		{
			name: "JSON lines first line broken",
			give: "{\"UID\":\"a\"\n{\"UID\":\"b\"}\n",
			want: []got{
				{Data: `{"UID":"a"`, Line: 1, Off: 0, Err: ErrInvalidJSON},
				{Data: `{"UID":"b"}`, Line: 2, Off: 11},
			},
		},
		{
			name: "JSON lines value split over two lines",
			file: "x.jsonl",
			give: "{\"UID\":\n\"a\"}\n{\"UID\":\"b\"}\n",
			want: []got{
				{Data: `{"UID":`, Line: 1, Off: 0, Err: ErrInvalidJSON},
				{Data: `"a"}`, Line: 2, Off: 8, Err: ErrInvalidJSON},
				{Data: `{"UID":"b"}`, Line: 3, Off: 13},
			},
		},
		{
			name: "JSON lines value followed by more on its line",
			give: "{\"UID\":\"a\"}\n\"a\" \"b\"\n[1] 2\n{\"UID\":\"b\"}\n",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 0},
				{Data: `"a" "b"`, Line: 2, Off: 12, Err: ErrInvalidJSON},
				{Data: `1`, Line: 3, Off: 21, Err: ErrNotObject},
				{Data: `2`, Line: 3, Off: 24, Err: ErrInvalidJSON},
				{Data: `{"UID":"b"}`, Line: 4, Off: 26},
			},
		},
		{
			name: "JSON lines values that are not objects",
			give: "{\"UID\":\"a\"}\n42\n\"text\"\nnull\n[1,{\"UID\":\"b\"}]\n",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 0},
				{Data: `42`, Line: 2, Off: 12, Err: ErrNotObject},
				{Data: `"text"`, Line: 3, Off: 15, Err: ErrNotObject},
				{Data: `null`, Line: 4, Off: 22, Err: ErrNotObject},
				{Data: `1`, Line: 5, Off: 28, Err: ErrNotObject},
				{Data: `{"UID":"b"}`, Line: 5, Off: 30},
			},
		},
		{
			name: "JSON lines last line cut off",
			give: "{\"UID\":\"a\"}\n{\"UID\":\"b\",\"pro",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 0},
				{Data: `{"UID":"b","pro`, Line: 2, Off: 12, Err: ErrTruncated},
			},
		},
		{
			name: "JSON lines of responses with a broken account",
			give: "{\"results\":[{\"UID\":\"a\"},{\"UID\":\"b\" 1},{\"UID\":\"c\"}]}\n{\"results\":[{\"UID\":\"d\"}]}\n",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 12},
				{Data: `{"UID":"b" 1},{"UID":"c"}]}`, Line: 1, Off: 24, Err: ErrInvalidJSON},
				{Data: `{"UID":"d"}`, Line: 2, Off: 64},
			},
		},
		{
			name: "array elements that are not objects",
			give: `[{"UID":"a"}, 1, "x", null, [1,{"UID":"z"}], true, {"UID":"b"}]`,
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 1},
				{Data: `1`, Line: 1, Off: 14, Err: ErrNotObject},
				{Data: `"x"`, Line: 1, Off: 17, Err: ErrNotObject},
				{Data: `null`, Line: 1, Off: 22, Err: ErrNotObject},
				{Data: `[1,{"UID":"z"}]`, Line: 1, Off: 28, Err: ErrNotObject},
				{Data: `true`, Line: 1, Off: 45, Err: ErrNotObject},
				{Data: `{"UID":"b"}`, Line: 1, Off: 51},
			},
		},
		{
			name: "array syntax error inside an element stops the file",
			give: "[\n  {\"UID\":\"a\"},\n  {\"UID\":\"b\", \"x\": tru},\n  {\"UID\":\"c\"}\n]\n",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 2, Off: 4},
				{Data: `{"UID":"b", "x": tru},`, Line: 3, Off: 19, Err: ErrInvalidJSON},
			},
		},
		{
			name: "array syntax error between elements stops the file",
			give: `[{"UID":"a"} {"UID":"b"}, {"UID":"c"}]`,
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 1},
				{Data: `{"UID":"b"}, {"UID":"c"}]`, Line: 1, Off: 13, Err: ErrInvalidJSON},
			},
		},
		{
			name: "array mismatched bracket",
			give: "[\n{\"UID\":\"a\",\"x\":[1}\n,{\"UID\":\"b\"}]",
			want: []got{
				{Data: `{"UID":"a","x":[1}`, Line: 2, Off: 2, Err: ErrInvalidJSON},
			},
		},
		{
			name: "array trailing comma",
			give: `[{"UID":"a"},]`,
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 1},
				{Data: `]`, Line: 1, Off: 13, Err: ErrInvalidJSON},
			},
		},
		{
			name: "array cut off inside an element",
			give: "[{\"UID\":\"a\"},\n{\"UID\":\"b\",\"x\":[1,",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 1},
				{Data: `{"UID":"b","x":[1,`, Line: 2, Off: 14, Err: ErrTruncated},
			},
		},
		{
			name: "array cut off between elements",
			give: "[{\"UID\":\"a\"},\n",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 1},
				{Line: 2, Off: 14, Err: ErrTruncated},
			},
		},
		{
			name: "array cut off inside a number",
			give: `[{"UID":"a"},{"n":1`,
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 1},
				{Data: `{"n":1`, Line: 1, Off: 13, Err: ErrTruncated},
			},
		},
		{
			name: "nesting too deep",
			give: `[{"UID":"a"},{"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}]`,
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 1},
				{Data: `{"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}]`, Line: 1, Off: 13, Err: ErrInvalidJSON},
			},
		},
		{
			name: "results not an array",
			give: "{\"results\":{\"UID\":\"a\"},\"objectsCount\":1}\n{\"results\":null}\n{\"results\":[{\"UID\":\"b\"}]}\n",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 1, Off: 11, Err: ErrInvalidJSON},
				{Data: `null`, Line: 2, Off: 52, Err: ErrInvalidJSON},
				{Data: `{"UID":"b"}`, Line: 3, Off: 70},
			},
		},
		{
			name: "repeated results member",
			give: indent(`{"results":[{"UID":"a"}],"errorCode":0,"results":[{"UID":"b"}]}`),
			want: []got{
				{Data: "{\n      \"UID\": \"a\"\n    }", Line: 3, Off: 21},
				{Data: "{\n      \"UID\": \"b\"\n    }", Line: 9, Off: 88},
			},
		},
		{
			name: "response cut off after its results",
			give: "{\n\"results\":[{\"UID\":\"a\"}],\n\"objectsCount\":",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 2, Off: 13},
				{Line: 3, Off: 42, Err: ErrTruncated},
			},
		},
		{
			name: "syntax error in response metadata",
			give: "{\n\"results\":[{\"UID\":\"a\"}],\n\"objectsCount\" 1\n}",
			want: []got{
				{Data: `{"UID":"a"}`, Line: 2, Off: 13},
				{Data: `1`, Line: 3, Off: 42, Err: ErrInvalidJSON},
			},
		},
		{
			name: "control character in a string",
			give: "[{\"UID\":\"a\tb\"}]",
			want: []got{
				{Data: "{\"UID\":\"a\tb\"}]", Line: 1, Off: 1, Err: ErrInvalidJSON},
			},
		},
		{
			name: "top-level scalar document",
			give: "  12.5e3",
			want: []got{
				{Data: "12.5e3", Line: 1, Off: 2, Err: ErrNotObject},
			},
		},
	}
	for _, tt := range tests {
		file := tt.file
		if file == "" {
			file = "x.json"
		}
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readAll(t, file, []byte(tt.give), []byte(tt.give))
			if err != nil {
				t.Fatalf("ReadFrom returned %v; bad input must only produce records", err)
			}
			sameRecords(t, recs, tt.want)
		})
	}
}

// TestReadTruncatedGzip cuts gzip streams: inside the data, and in the
// trailer after all data was decoded. Either way the loss must be reported.
func TestReadTruncatedGzip(t *testing.T) {
	var plain bytes.Buffer
	for i := range 2000 {
		plain.Write(account(i, ""))
		plain.WriteByte('\n')
	}
	z := gzipped(plain.Bytes())
	tests := []struct {
		name string
		give []byte
	}{
		{name: "cut in the middle", give: z[:len(z)/2]},
		{name: "trailer missing", give: z[:len(z)-4]},
		{name: "header only", give: z[:5]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readAll(t, "x.jsonl.gz", tt.give, plain.Bytes())
			if err != nil {
				t.Fatalf("ReadFrom: %v", err)
			}
			if len(recs) == 0 {
				t.Fatal("no records")
			}
			last := recs[len(recs)-1]
			if !errors.Is(last.Err, ErrTruncated) {
				t.Fatalf("last record %v: err %v, want ErrTruncated", last.Origin, last.Err)
			}
			for _, r := range recs[:len(recs)-1] {
				if r.Err != nil {
					t.Errorf("%v: %v", r.Origin, r.Err)
				}
			}
		})
	}
}

// TestReadIOError checks that read failures are reported as a record and
// returned, rather than taken for the end of the input.
func TestReadIOError(t *testing.T) {
	var plain bytes.Buffer
	for i := range 200 {
		plain.Write(account(i, ""))
		plain.WriteByte('\n')
	}
	z := gzipped(plain.Bytes())
	badCRC := bytes.Clone(z)
	badCRC[len(badCRC)-8] ^= 0xff // CRC-32 in the trailer
	badHeader := bytes.Clone(z)
	badHeader[2] = 9 // compression method
	diskErr := errors.New("disk on fire")
	tests := []struct {
		name    string
		give    io.Reader
		wantErr error
	}{
		{name: "reader fails", give: io.MultiReader(bytes.NewReader(plain.Bytes()[:5000]), iotest.ErrReader(diskErr)), wantErr: diskErr},
		{name: "gzip checksum", give: bytes.NewReader(badCRC), wantErr: gzip.ErrChecksum},
		{name: "gzip header", give: bytes.NewReader(badHeader), wantErr: gzip.ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []Record
			err := ReadFrom(context.Background(), "x.jsonl", tt.give, func(r Record) error {
				recs = append(recs, r)
				return nil
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadFrom returned %v, want %v", err, tt.wantErr)
			}
			if len(recs) == 0 || !errors.Is(recs[len(recs)-1].Err, tt.wantErr) {
				t.Fatalf("the failure was not emitted as the last record")
			}
		})
	}
}

// TestReadTooLarge checks that a value over the limit costs only itself.
func TestReadTooLarge(t *testing.T) {
	huge := `{"UID":"big","blob":"` + strings.Repeat("x", maxRecordSize) + `"}`
	for _, tt := range []struct{ name, file, give string }{
		{name: "array", file: "x.json", give: `[{"UID":"a"},` + huge + `,{"UID":"b"}]`},
		{name: "JSON lines", file: "x.jsonl", give: "{\"UID\":\"a\"}\n" + huge + "\n{\"UID\":\"b\"}\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readAll(t, tt.file, []byte(tt.give), []byte(tt.give))
			if err != nil {
				t.Fatal(err)
			}
			g := simplify(recs)
			if len(g) != 3 || g[0].Data != `{"UID":"a"}` || !errors.Is(g[1].Err, ErrTooLarge) ||
				g[1].Off != int64(strings.Index(tt.give, huge)) || len(g[1].Data) != maxBadData || g[2].Data != `{"UID":"b"}` {
				t.Fatalf("records %v", g)
			}
		})
	}
}

func TestReadStopsOnEmitError(t *testing.T) {
	stop := errors.New("stop")
	give := "[" + accA + "," + accB + "," + accC + "]"
	n := 0
	err := ReadFrom(context.Background(), "x.json", strings.NewReader(give), func(Record) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Fatalf("got err %v after %d records, want %v after 2", err, n, stop)
	}
}

func TestReadStopsOnEmitErrorForBadRecord(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ReadFrom(context.Background(), "x.jsonl", strings.NewReader("bad\n{}\n"), func(r Record) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Fatalf("got err %v after %d records, want %v after 1", err, n, stop)
	}
}

func TestReadCancel(t *testing.T) {
	var give bytes.Buffer
	for i := range 5000 {
		give.Write(account(i, ""))
		give.WriteByte('\n')
	}
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", gz), func(t *testing.T) {
			input := give.Bytes()
			if gz {
				input = gzipped(input)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := 0
			err := ReadFrom(ctx, "x.jsonl", bytes.NewReader(input), func(Record) error {
				if n++; n == 3 {
					cancel()
				}
				return nil
			})
			if !errors.Is(err, context.Canceled) || n != 3 {
				t.Fatalf("got err %v after %d records, want context.Canceled after 3", err, n)
			}
		})
	}
	t.Run("before reading", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := ReadFrom(ctx, "x.jsonl", bytes.NewReader(give.Bytes()), func(Record) error {
			t.Fatal("emit called")
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestOriginString(t *testing.T) {
	tests := []struct {
		give Origin
		want string
	}{
		{give: Origin{File: "accounts.jsonl.gz", Line: 17, Offset: 5120}, want: "accounts.jsonl.gz:17@5120"},
		{give: Origin{File: "export.json", Offset: 123456}, want: "export.json@123456"},
		{give: Origin{File: "x.json"}, want: "x.json@0"},
	}
	for _, tt := range tests {
		if got := tt.give.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestDetectLines(t *testing.T) {
	tests := []struct {
		name, file, give string
		want             bool
	}{
		{name: "array", file: "x.json", give: "[{\"a\":1}]\n", want: false},
		{name: "array named jsonl", file: "x.jsonl", give: "[{\"a\":1}]\n", want: true},
		{name: "complete first line", file: "x.json", give: "{\"a\":1}\n{", want: true},
		{name: "pretty object", file: "x.json", give: "\n\n  {\n  \"a\": 1\n}", want: false},
		{name: "pretty response with results on line one", file: "x.json", give: "{\"results\": [\n{}]}", want: false},
		{name: "broken first line", file: "x.json", give: "{\"a\":\"b\n{}", want: true},
		{name: "single line without newline", file: "x.json", give: "{\"a\":1", want: true},
		{name: "name decides", file: "X.NDJSON.GZ", give: "{\n", want: true},
		{name: "scalar", file: "x.json", give: "12\n", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScanner(strings.NewReader(tt.give), func() error { return nil })
			if got := detectLines(tt.file, s); got != tt.want {
				t.Errorf("detectLines = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReadConcatenatedGzip reads gzip members written one after the other, as
// "cat a.gz b.gz" or parallel compressors produce them.
func TestReadConcatenatedGzip(t *testing.T) {
	part1, part2 := accA+"\n"+accB+"\n", accC+"\n"
	input := append(gzipped([]byte(part1)), gzipped([]byte(part2))...)
	recs, err := readAll(t, "x.jsonl.gz", input, []byte(part1+part2))
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, recs, []got{
		{Data: accA, Line: 1, Off: 0},
		{Data: accB, Line: 2, Off: int64(len(accA) + 1)},
		{Data: accC, Line: 3, Off: int64(len(part1))},
	})
}

// A record's Key holds the outermost members that may hold its key, in
// order: case variants and names only a decoder can judge included,
// nested ones left out.
func TestRecordKeyHoldsTheKeyMembers(t *testing.T) {
	in := `{"a":{"UID":"no"},"UID":"u","x":[{"lastUpdated":1}],"uid" : "v","lastUpdatedTimestamp":{"n":[1,2]},"LASTUPDATED":"2020","x\u0041":1,"é":2,"z":"UID"}` + "\n{}\n"
	var keys []string
	err := ReadFrom(context.Background(), "f.jsonl", strings.NewReader(in), func(r Record) error {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		keys = append(keys, string(r.Key))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"UID":"u","uid" : "v","lastUpdatedTimestamp":{"n":[1,2]},"LASTUPDATED":"2020","x\u0041":1,"é":2}`, `{}`}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys\n got  %q\n want %q", keys, want)
	}
}

// Accounts whose keys are easy to misread (members nested, repeated, in
// other cases, escaped, non-ASCII; keys missing or not strings): the key
// from the members noted while reading is the one a full read gives
// (checkRecord), and the noted members are what the record needs.
func TestKeysFromNotedMembersAreTheFullReadsKeys(t *testing.T) {
	accounts := []string{
		`{"UID":"u1","lastUpdatedTimestamp":1706781600000}`,
		` { "profile" : {"UID":"nested","lastUpdated":"x"} , "UID" : "u1" , "lastUpdatedTimestamp" : "1706781600000" } `,
		`{"uid":"lower","UID":"u2","LASTUPDATEDTIMESTAMP":5}`,
		`{"UID":"first","UID":"last","lastUpdated":"2024-02-01T10:00:00.000Z"}`,
		`{"U\u0049D":"escaped","lastUpdated":null}`,
		`{"UID":"u1","lastUpdated":12}`,
		`{"UID":"u1","lastUpdatedTimestamp":{"a":[1,"}"]},"data":{"s":"\"{["}}`,
		`{"UID":"u\"1","n":-1.5e3,"t":true,"f":false,"z":null,"a":[]}`,
		`{"ſUID":"u1","UID":"u2"}`,
		`{}`,
		`{"UID":12}`,
		`{"UID":" u1 ","lastUpdatedTimestamp":5}`,
		`{"profile":{"email":"a@x"},"UID":"h"}`,
	}
	input := []byte(strings.Join(accounts, "\n"))
	n := 0
	err := ReadFrom(context.Background(), "f.jsonl", bytes.NewReader(input), func(r Record) error {
		if r.Err != nil {
			t.Fatalf("%v: %v", r.Origin, r.Err)
		}
		checkRecord(t, input, r)
		n++
		return nil
	})
	if err != nil || n != len(accounts) {
		t.Fatalf("read %d of %d accounts: %v", n, len(accounts), err)
	}
}
