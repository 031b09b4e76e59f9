// Package login is the login-time migration service (docs/login-migration.md):
// it moves a user to the target at their next login, with the password they
// just typed, beside the bulk pipeline. The extractor runs it
// (extractor login-service), since it is the stage that talks to Gigya and
// publishes to GIGYA_ACCOUNTS.
//
// For Auth0 it answers the two scripts of a custom database connection with
// "Import Users to Auth0" on (configs/auth0-login.js, configs/auth0-get-user.js):
//
//	POST /auth0/login     {"identifier", "password"} → Gigya accounts.login → the
//	                      account mapped by the transformer's mapping → {"profile"}
//	POST /auth0/get_user  {"identifier"} → Gigya accounts.search → {"profile"}, or 404
//
// For LoginRadius, both ways its Gigya migration guide describes:
//
//	POST /loginradius/login   the whole just-in-time flow (API mode): the email known
//	                          to LoginRadius → its login; otherwise Gigya's login,
//	                          Account Create with the typed password and the mapped
//	                          profile (without the password, and a reset email, when
//	                          LoginRadius' policy refuses it), then LoginRadius' login
//	POST /loginradius/lookup  the External Identity Lookup node of an Orchestration
//	                          workflow: Gigya's login → the mapped profile
//
// Every account it migrates is published to gigya.accounts.<site> marked
// Etl-Login-Migrated, so that the balance counts it and the loaders never
// write a bulk version of it over what the user brought at login.
//
// The requests carry plaintext passwords. The service serves TLS (or plain
// HTTP behind a terminating proxy, by choice), authenticates each caller by
// a secret compared in constant time (and optionally a client
// certificate), limits requests per caller and Gigya logins per login
// identifier (keyed by a keyed hash of it, never the identifier), bounds
// every request below the caller's own timeout, and never lets a password
// into a log line, a metric, a stream, a dead letter or an error message.
package login
