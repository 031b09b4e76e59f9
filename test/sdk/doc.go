// Package sdk is the SDK conformance suite; it has no code of its own. Its
// tests start the Gigya and Auth0 simulators in-process and drive them with
// the official npm clients that our users' scripts use, pinned in
// package-lock.json (auth0 7.x and its legacy v4 entry point, gigya 3.x):
// small Node.js scripts beside this file run the scenarios and print JSON,
// which the tests check against the simulators' state.
//
// It also runs the Auth0 custom database scripts of configs/
// (auth0-login.js, auth0-get-user.js) as Auth0 runs them: their source in a
// shim of the sandbox's globals (auth0-sandbox.js), against the login
// service (internal/login) over TLS in front of a simulated Gigya site.
//
// The tests need Node.js (20.19 or later, what auth0 7 requires) and npm.
// They run `npm ci` themselves when node_modules is missing or older than
// package-lock.json, and fail, never skip, when node or npm is missing.
package sdk
