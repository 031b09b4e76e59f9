package badinput

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// generators write the inputs too large to commit (or too regular to be
// worth it) into dir and return the file's path. Each is deterministic.
var generators = map[string]func(dir string) (string, error){
	// A 1.5 MiB account between two small ones: over the 1 MiB NATS
	// max_payload a default server has.
	"oversized_record": func(dir string) (string, error) {
		return writeLines(dir, "oversized_record.jsonl",
			small("big-before"), withBlob(`"UID":"big-1","lastUpdatedTimestamp":1706781600000,"profile":{"email":"big@example.com"}`, "data", 3<<19), small("big-after"))
	},
	// The same without a UID: the extractor dead-letters it (no_uid), and
	// the dead letter carries the input unchanged, so it is as large.
	"oversized_no_uid": func(dir string) (string, error) {
		return writeLines(dir, "oversized_no_uid.jsonl",
			withBlob(`"lastUpdatedTimestamp":1706781600000,"profile":{"email":"big-nouid@example.com"}`, "data", 3<<19), small("big-nouid-after"))
	},
	// An account 300 bytes under the 1 MiB max_payload: it fits in a RAW
	// message (about 200 bytes of headers with this case's site name), but
	// its custom data is far over Auth0's 500 KB, so the transformer must
	// dead-letter it (schema_violation), and the dead letter (the input
	// plus about 500 bytes of headers) no longer fits in a message.
	"near_limit_record": func(dir string) (string, error) {
		return writeLines(dir, "near_limit_record.jsonl",
			withBlob(`"UID":"near-limit","lastUpdatedTimestamp":1706781600000,"profile":{"email":"near@example.com"}`, "data", 1<<20-300), small("near-limit-after"))
	},
	// 900 KB in a top-level key the mapping does not read: the record
	// travels whole, the user is small.
	"large_unmapped_bulk": func(dir string) (string, error) {
		return writeLines(dir, "large_unmapped_bulk.jsonl",
			withBlob(`"UID":"bulk-1","lastUpdatedTimestamp":1706781600000,"profile":{"email":"bulk@example.com"}`, "unmappedBlob", 900_000))
	},
	// Larger than the file reader's 32 MiB per-record limit.
	"huge_record": func(dir string) (string, error) {
		return writeLines(dir, "huge_record.jsonl",
			withBlob(`"UID":"huge-1","lastUpdatedTimestamp":1706781600000,"profile":{"email":"huge@example.com"}`, "data", 33<<20), small("huge-after"))
	},
	// 5,000 identities (one login identity, 4,999 social).
	"identities_5000": func(dir string) (string, error) {
		var b strings.Builder
		b.WriteString(`{"UID":"ids-5000","lastUpdatedTimestamp":1706781600000,"profile":{"email":"ids5000@example.com"},"identities":[`)
		for i := range 5000 {
			if i > 0 {
				b.WriteByte(',')
			}
			provider, login := fmt.Sprintf("p%d", i), "false"
			if i == 0 {
				provider, login = "site", "true"
			}
			fmt.Fprintf(&b, `{"provider":%q,"providerUID":"x%d","isLoginIdentity":%s,"email":"id%d@example.com","country":"de"}`, provider, i, login, i)
		}
		b.WriteString("]}")
		return writeLines(dir, "identities_5000.jsonl", b.String())
	},
	// data nested 10,001 levels: one more than the reader's (and
	// encoding/json's) nesting limit.
	"data_nested_10001": func(dir string) (string, error) {
		const n = 10_001
		line := `{"UID":"deep-10001","profile":{"email":"deeper@example.com"},"data":` +
			strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + "}"
		return writeLines(dir, "data_nested_10001.jsonl", line, small("deep-after"))
	},
}

// small is an ordinary account.
func small(uid string) string {
	return fmt.Sprintf(`{"UID":%q,"lastUpdatedTimestamp":1706781600000,"profile":{"email":"%s@example.com"}}`, uid, uid)
}

// withBlob is an account object with the given members plus key holding
// {"blob":"xxxx..."}, padded so that the whole line is size bytes.
func withBlob(members, key string, size int) string {
	head := "{" + members + `,"` + key + `":{"blob":"`
	tail := `"}}`
	return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
}

func writeLines(dir, name string, lines ...string) (string, error) {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, b.Bytes(), 0o644)
}
