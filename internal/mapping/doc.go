// Package mapping turns one Gigya account into one target-format user, by a
// YAML mapping of output paths to expr-lang expressions
// (github.com/expr-lang/expr). The transformer uses it per record; a mapping
// can also be tried on sample records with no NATS at all.
//
// # The mapping file
//
//	version: 1            # format version; only 1 is accepted
//	target: auth0         # [a-z0-9_-]+, the token in users.mapped.<target>
//	fields:               # ordered: output path -> expression
//	  user_id: UID
//	  email: lower(trim(profile.email ?? loginIDs.emails[0] ?? ""))
//	  app_metadata.gigya_uid: UID    # dots build nested objects
//	filters:              # optional, ordered; the first true one skips the record
//	  - name: lite_account
//	    when: hasLiteAccount == true && hasFullAccount != true
//	required: [email]     # optional: paths that must end up non-empty
//
// Decoding is strict: unknown keys, duplicate keys, empty path segments
// ("a..b") and a path that is both a value and a parent ("a" and "a.b") are
// errors, and every error names the section, the key, the YAML line and, for
// an expression that does not compile, the expression ([ConfigError]).
//
// # Model: compile once, one evaluator per goroutine
//
// [Parse] (or [Load]) compiles every expression once, at start-up, with an
// AST node budget ([MaxExprNodes]) and a source length cap ([MaxExprLen]);
// filters must be boolean (expr.AsBool). The resulting [Mapping] is immutable
// and safe for concurrent use. Evaluation goes through an [Evaluator], which
// reuses one expr virtual machine (its stack and scopes) across records and
// is therefore not safe for concurrent use: each worker goroutine creates its
// own with [Mapping.NewEvaluator].
//
// # Semantics
//
// The expressions see the decoded account's top-level keys as variables
// (UID, profile, data, identities, ...). A key absent from a record is nil.
// Every member and index access is nil-safe without `?.`:
// profile.address.city, identities[0].provider and loginIDs.emails[5] are nil
// when anything on the way is missing or the index is out of range (an
// expr.Patch visitor marks field accesses optional and turns index accesses
// into the builtin get). A type mismatch (a field of a string, a string index
// on an array) stays an error: the mapping and the data disagree. Method
// calls, slices and builtins keep expr's semantics, and most builtins reject
// nil (lower(nil), len(nil), filter(nil, ...)): write `x ?? ""` or `x ?? []`.
// date() and now() use UTC, never the host's time zone.
//
// Filters run first; the first one that is true skips the record, which is
// counted under its name and is not an error. Then fields are evaluated in
// order. A nil result omits the field, so a target never receives null for a
// missing value; an empty string is kept for now (an omit-empty policy
// belongs to target validation). A runtime error, including a panic that
// expr recovers, fails the record with a [*FieldError] naming the field and
// the expression; so does a required path that is missing or empty
// ([ErrRequired]).
//
// # Version
//
// [Mapping.Version] is a 12-hex-character SHA-256 of the normalised mapping:
// target, fields in order, filters in order, required paths, each expression
// with comments and layout removed. Comments, indentation and YAML quoting
// style do not change it; any expression change does. It is part of the
// MAPPED message id (<target>:<UID>:<lastUpdatedTimestamp>:<version>), which
// JetStream uses to drop duplicates: a replay after a mapping fix must
// produce NEW message ids, or the corrected users would be dropped as
// duplicates of the broken ones. It is built from ordered data only, so it
// is the same in every process and Go version.
//
// # Input keys
//
// [Mapping.Paths] lists the top-level account keys the expressions read, so
// a decoder can skip the rest of a record (decoding is most of the cost of a
// mapping step).
package mapping
