package filesource

import "strconv"

// Origin locates a record in its input, for dead-letter reports.
type Origin struct {
	File   string // path as given
	Line   int    // 1-based line of the record's start in the (decompressed) file; 0 if unknown
	Offset int64  // byte offset of the record's start in the decompressed stream
}

// String formats the origin as "file:line@offset", or "file@offset" when the
// line is unknown. Both parts are kept because one line of a one-line array
// holds every record of the file, so the line alone does not find a record,
// while the line is what a person opens the file at.
func (o Origin) String() string {
	b := make([]byte, 0, len(o.File)+24)
	b = append(b, o.File...)
	if o.Line > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(o.Line), 10)
	}
	b = append(b, '@')
	b = strconv.AppendInt(b, o.Offset, 10)
	return string(b)
}

// Record is one account read from a file, or one unusable piece of input.
type Record struct {
	// Data is the account's JSON object, byte for byte as in the input (no
	// re-encoding); for a bad record, the offending bytes (capped at 64 KiB).
	// Each Record owns its Data: emit may keep it after returning.
	Data []byte
	// Key is, for a usable record, an object of its top-level members that
	// may hold the account's key, for gigya.IdentifyMembers: found as the
	// record was validated, so that identifying it needs no second scan.
	Key    []byte
	Origin Origin
	// Err is nil for a usable JSON object; otherwise why it is unusable. It
	// wraps ErrInvalidJSON, ErrNotObject, ErrTruncated or ErrTooLarge, or it
	// is the I/O error that Read also returns.
	Err error
}
