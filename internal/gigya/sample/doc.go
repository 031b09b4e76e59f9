// Package sample generates realistic, reproducible Gigya (SAP Customer Data
// Cloud) accounts, shaped exactly like the objects accounts.search returns.
//
// The generator exists because a migration is only proven when users can
// still log in afterwards: later tests migrate these accounts and check the
// old password against whatever the target stored. So every password hash
// here is real and made from a plaintext that [Account.Password] reports,
// except for a few deliberately unverifiable ones (md5_crypt, custom) that
// exercise the "target cannot take this hash" path. The quickstart sample
// committed with the project is written by [WriteJSONL].
//
// The mix follows what a real tenant export looks like: mostly site
// (email + password) users, social-only users (some without any email),
// users with a site identity plus linked social identities, lite accounts,
// non-Latin and emoji names, missing optional fields, and password hashes in
// the Gigya-native pbkdf2_sha512 alongside legacy algorithms that imported
// users keep until their first login. docs/apis/gigya.md ("The account
// object") gives the field semantics.
//
// Output is a pure function of the seed and [Options]: the same inputs give
// byte-identical JSON, so samples can be committed and tests can compare
// runs. The random choices never depend on Options, which only change how
// expensive the hashes are; a fast sample ([Quick], what `extractor sample`
// writes unless asked for production costs) and a production-cost sample
// with the same seed hold the same users and passwords.
package sample
