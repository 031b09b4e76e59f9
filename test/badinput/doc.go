// Package badinput holds the bad-input corpus and the tests that run it
// through the pipeline; it has no code of its own.
//
// testdata/cases.yaml lists every case: an input file under testdata/ (or
// one that a generator in generate_test.go writes, for inputs too large to
// commit), what is wrong with it, and the expected outcome of every record
// the file source reads from it, in input order:
//
//	mapped                   the transformer produced a user (optionally with
//	                         expected field values for configs/auth0.yaml)
//	filtered:<filter>        a mapping filter skipped it (counted)
//	dead_letter:<stage>:<code>
//	                         it is in ETL_DEADLETTER with that Etl-Error-Code
//	duplicate                the extractor dropped it by Nats-Msg-Id: same UID
//	                         and lastUpdatedTimestamp as a record stored before
//
// TestCorpus runs every case in-process through the real path: the
// extractor's Run (file source, gigya.Identify, its message building and
// dead letters) against an in-process JetStream server, then `transformer
// check` (the transformer's record mapper with configs/auth0.yaml and the
// Auth0 validator) on the same file. TestCorpusThroughBinaries runs the
// cases marked `binaries: true` through the three built binaries.
//
// A case or record with a `bug:` note found a defect when the corpus was
// written (a crash, a lost record, a wrong code); the product was fixed and
// the case guards against the defect coming back.
package badinput
