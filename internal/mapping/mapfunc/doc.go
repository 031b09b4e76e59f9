// Package mapfunc holds the helper functions mapping authors call in field
// and filter expressions: timestamp normalisation (gigya_time,
// gigya_epoch_ms, gigya_epoch_s), identity values (email, phone_e164,
// first_phone), text (coalesce, join_name, join_nonempty, to_bool, gender,
// gender_code, birthdate), locales (locale, language, country) and objects
// (omit_empty, pick, rename_keys, sanitize_keys).
//
// The mapping engine plugs them into expr with [Options], rejects calls of
// any other name with the help of [Names], and the mapping reference in the
// README is generated from [Docs], whose examples a test evaluates, so the
// reference cannot drift from the code.
//
// # Conventions every helper follows
//
// Records are sparse and the engine's member accesses are nil-safe, so
// arguments are very often nil. Every helper accepts nil and returns nil for
// it (the engine then omits the field), and treats a blank string ("", or
// only white space) as absent too. No helper panics, whatever it is given,
// and none modifies its arguments: objects and arrays they return are new
// (the account they came from may be shared with the output of other
// fields).
//
// A value of the wrong JSON type (an object where text is expected, a
// boolean where a time is expected) is an error: the mapping and the data
// disagree, which is the engine's rule for member access too. For a value of
// the right type that cannot be understood the helpers split in two:
//
//   - values that identify a user or decide how they log in fail loudly:
//     gigya_time and the epoch helpers, email, phone_e164 and to_bool return
//     an error, which the engine reports as a field error naming the field,
//     and the record is dead-lettered instead of being imported with a
//     wrong login or a wrong verified flag;
//   - descriptive attributes are best effort: gender, gender_code, locale,
//     language, country and birthdate return nil (or "U" for gender_code)
//     for values they do not recognise, because losing a user over a
//     cosmetic attribute is worse than omitting it.
//
// Error texts start with the helper's name. They quote timestamps and locale
// strings to help fix the mapping, but never an email address or a phone
// number: errors end up in logs and dead-letter headers, which should not
// carry personal data.
//
// # Heuristics
//
// gigya_time and the epoch helpers read a number (or a string of digits)
// whose absolute value is below 1e11 as seconds and anything else as
// milliseconds: Gigya mixes both (createdTimestamp is milliseconds,
// identities[].lastLoginTime seconds), and the two ranges only overlap for
// dates before March 1973 or after the year 5138. A string of digits is
// always an epoch, never a compact date like 20190314.
//
// phone_e164 is a pragmatic normaliser without per-country data; its rules
// and limits are documented on normalizePhone. A number it accepts has the
// E.164 shape (+, 7 to 15 digits, no leading 0) but may still not exist.
//
// # Types
//
// Each helper is registered with expr.Function and one or more typed
// signatures, so a wrong number of arguments or a literal of the wrong type
// (phone_e164(x, 49) instead of phone_e164(x, "49")) is a compile error of
// the mapping, reported at start-up. Parameters that take record values are
// typed any, and results that can be nil are typed any: expr then checks
// nothing more about them, and the helpers check the dynamic type at
// runtime.
//
// # Names
//
// Names are snake_case and never shadow an expr builtin: expr already has
// first(array) and join(array, sep), so the "first non-empty value" helper
// is coalesce and the joining helper is join_nonempty. A helper name does
// shadow a top-level account key of the same name in an expression; Gigya
// has no top-level key named like a helper, and $env["key"] still reads one.
package mapfunc
