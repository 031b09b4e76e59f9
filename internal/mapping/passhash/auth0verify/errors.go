package auth0verify

import "errors"

var (
	// ErrMalformed matches (errors.Is) every error for an object that breaks
	// Auth0's documented schema or per-algorithm rules, or that can never
	// verify any password.
	ErrMalformed = errors.New("malformed custom_password_hash")
	// ErrNotImplemented is returned by Verify for an object that Auth0
	// documents as valid but that this package cannot compute (whirlpool
	// and mdc2 digests, argon2d, Argon2 versions other than 19).
	ErrNotImplemented = errors.New("custom_password_hash variant not implemented by this verifier")
	// ErrLimit is returned by Verify when a work factor exceeds this
	// package's bounds (see the Max constants).
	ErrLimit = errors.New("custom_password_hash work factor exceeds the verifier's limits")
)
