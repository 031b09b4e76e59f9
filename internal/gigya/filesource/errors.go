package filesource

import "errors"

// ErrInvalidJSON marks input that is not valid JSON: a broken line in JSON
// lines input, a syntax error inside an array or a saved response, or a
// "results" member that is not an array. Inside an array or a pretty-printed
// document it ends the reading of that file, because the reader cannot tell
// where the next record starts.
var ErrInvalidJSON = errors.New("filesource: invalid JSON")

// ErrNotObject marks a well-formed JSON value that cannot be an account
// because it is not an object, such as a number or a string inside an array
// of accounts. Reading goes on after it.
var ErrNotObject = errors.New("filesource: JSON value is not an object")

// ErrTruncated marks input that ends inside a value: a file that was cut off,
// or a gzip stream that stops before its end. Whatever followed the cut is
// lost, so the caller must treat the file as incomplete.
var ErrTruncated = errors.New("filesource: input ends inside a value")

// ErrTooLarge marks a value larger than the per-record limit (32 MiB). The
// reader keeps only one record in memory and refuses to let a single value,
// often the symptom of a corrupt file, grow without bound. Reading goes on
// after the value when its end can still be found.
var ErrTooLarge = errors.New("filesource: record too large")

// Code is the stable dead-letter code of a record error: not_object,
// truncated, record_too_large, invalid_json, or read_error for a failure of
// the file itself (an I/O error, a damaged gzip stream).
func Code(err error) string {
	switch {
	case errors.Is(err, ErrNotObject):
		return "not_object"
	case errors.Is(err, ErrTruncated):
		return "truncated"
	case errors.Is(err, ErrTooLarge):
		return "record_too_large"
	case errors.Is(err, ErrInvalidJSON):
		return "invalid_json"
	default:
		return "read_error"
	}
}
