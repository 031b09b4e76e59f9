// Package filesource reads Gigya account exports from files for the extractor.
//
// # Formats
//
// Every input may be gzipped; gzip is recognised by its magic bytes, not by
// the file name, and concatenated gzip members are read as one stream. After
// decompression an input holds one of:
//
//   - a JSON array of accounts, on one line or pretty-printed, of any size;
//   - JSON lines: one account per line, blank lines ignored, "\r\n" accepted;
//   - saved accounts.search responses, objects of the form
//     {"results":[...accounts...], "objectsCount":..., ...}: one response
//     (usually pretty-printed), several responses one per line, or a JSON
//     array of responses.
//
// An object is a response when it has a top-level "results" member (accounts
// have none); its other members are skipped and its results become records.
// JSON lines is chosen by a .jsonl or .ndjson name (with or without .gz), or
// when the input does not start with '[' and its first line holds a complete
// value, is broken other than where pretty-printers break lines (after '{',
// '[', ',' or ':'), or is longer than 256 KiB. Everything else is read as a
// document: whitespace-separated JSON values where newlines are blanks.
// In both, a top-level array or response is streamed, so a line may also
// hold a response or an array of accounts.
//
// [Read] takes files and directories ([Expand] gives the order) and
// [ReadFrom] one open stream.
//
// # Memory
//
// Input is read through a 256 KiB window and never held whole. Only the value
// being read is kept: it stays contiguous in the window, which grows for a
// large value up to 32 MiB ([ErrTooLarge] beyond) and shrinks back after it.
// Arrays and the results of a saved response are streamed element by
// element, whether the response is pretty-printed or on one line, so a
// multi-gigabyte array or response costs no more memory than its largest
// account. The members of an object that come before a "results" member stay
// in the window until the object turns out to be a response; Gigya writes
// "results" first.
//
// # Records and bad input
//
// Each usable account is a [Record] whose Data is the object's bytes exactly
// as in the input and validated as JSON; each Record's Origin gives the file,
// the exact 1-based line and the byte offset of its first byte in the
// decompressed stream. Nothing is dropped silently: every piece of input that
// cannot become an account becomes a Record with Err set, holding the
// offending bytes (at most 64 KiB), and the caller dead-letters it.
//
//   - JSON lines: a broken line becomes one [ErrInvalidJSON] record with the
//     line's number and bytes, and reading resumes on the next line. A line
//     whose value is followed by anything but blanks is broken as a whole.
//     In a line holding a response, the accounts before the error have been
//     emitted already; the record holds the line from the broken account on.
//   - A value that is valid JSON but not an object where an account belongs
//     (a number in an array, a line holding a string) is an [ErrNotObject]
//     record; reading goes on.
//   - A "results" member that is not an array is an [ErrInvalidJSON] record;
//     the rest of the response is read on.
//   - A syntax error in a document (an array, a pretty-printed response) is
//     one [ErrInvalidJSON] record at the offending value's offset and line,
//     and the rest of THAT file is not read: without line boundaries the
//     reader cannot tell where the next record starts, and guessing after a
//     lost quote could fabricate records. Reading goes on with the next file
//     and Read returns nil; the dead letter tells the operator the file needs
//     repair. A JSON lines file whose name does not say so and whose first
//     line is broken right after '{', '[', ',' or ':' looks like a
//     pretty-printed document and falls under this rule; name such files
//     .jsonl or .ndjson.
//   - Input that ends inside a value, or a gzip stream that is cut off, is an
//     [ErrTruncated] record; reading goes on with the next file.
//   - A value larger than 32 MiB is an [ErrTooLarge] record; reading goes on
//     after it when its end can be found.
//   - I/O failures (a file that cannot be opened or read, a gzip stream with
//     a bad header or checksum) are emitted as a Record carrying the error,
//     and Read then returns that error without reading further files.
//
// The package does not check account contents such as the UID: the caller
// validates accounts so that the API source shares the same check.
package filesource
