// Package deadletter inspects the dead-letter stream (ETL_DEADLETTER: see
// docs/architecture.md for the stream, docs/delivery.md for dead letters) and
// sends dead letters back into the pipeline once the cause of their failure
// is fixed.
//
// The library has three operations, used by the deadletter command ([Run])
// and by status reports:
//
//   - [Summarize] groups dead letters by stage, target and Etl-Error-Code,
//     reading headers only (an ordered consumer with HeadersOnly), so that it
//     stays fast on 100k dead letters and never moves a password hash.
//   - [Show] returns one dead letter with its payload pretty-printed and its
//     secrets replaced ([Redact]).
//   - [Redrive] republishes a selection to the subject each one came from
//     (Etl-Source-Subject), marked with Etl-Redriven and a deterministic
//     Nats-Msg-Id, and deletes each dead letter only after the PubAck, so
//     that extracted = loaded + dead-lettered + filtered keeps holding.
//
// None of them creates a stream: a missing dead-letter stream is an error
// that says how to get one.
package deadletter
