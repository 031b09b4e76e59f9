package login

import (
	"context"
	"net/http"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// The Auth0 endpoints answer the scripts of a custom database connection
// with "Import Users to Auth0" on (docs/apis/auth0.md, "Custom database
// scripts"; configs/auth0-login.js and configs/auth0-get-user.js). A
// profile is the user the mapping makes of the account, as the bulk load
// would import it, without login.auth0.omit (the password hash fields): the
// profile Auth0 stores, and whose password is the one the user typed.

// profileAnswer is the body of a found or migrated user.
type profileAnswer struct {
	Profile map[string]any `json:"profile"`
}

// auth0Login is POST /auth0/login {"identifier", "password"}: the login
// script's call, when a user Auth0 does not hold logs in.
func (s *Service) auth0Login(ctx context.Context, c *call, body []byte) (int, any, *failure) {
	var in credentials
	if err := decodeStrict(body, &in); err != nil {
		return 0, nil, fail(outBadRequest, err.Error())
	}
	if strings.TrimSpace(in.Identifier) == "" || in.Password == "" {
		return 0, nil, fail(outBadRequest, "identifier and password are required")
	}
	user, f := s.migrate(ctx, c, in.Identifier, in.Password)
	if f != nil {
		return 0, nil, f
	}
	return http.StatusOK, result{outMigrated, profileAnswer{without(user, s.auth0Omit)}}, nil
}

// auth0GetUser is POST /auth0/get_user {"identifier"}: the get user
// script's call (sign-up, password reset, email change of a user Auth0
// does not hold). An account the mapping filters (a lite account) is not
// a user: 404.
func (s *Service) auth0GetUser(ctx context.Context, c *call, body []byte) (int, any, *failure) {
	var in struct {
		Identifier string `json:"identifier"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return 0, nil, fail(outBadRequest, err.Error())
	}
	if strings.TrimSpace(in.Identifier) == "" {
		return 0, nil, fail(outBadRequest, "identifier is required")
	}
	var acc json.RawMessage
	err := s.gigyaCall(c, func() error {
		var err error
		acc, err = s.search.FindAccount(ctx, s.settings.Gigya.LookupField, strings.TrimSpace(in.Identifier), gigya.LookupFields())
		return err
	})
	if err != nil {
		if _, code := fault.Classify(err); code == gigya.CodeInvalidRequest {
			// An identifier Gigya's query language cannot hold (a double
			// quote) names no account a login could reach.
			return 0, nil, fail(outNotFound, "")
		}
		return 0, nil, s.gigyaFailure(ctx, err)
	}
	user, f := s.mapped(acc)
	if f != nil && f.outcome == outFiltered {
		return 0, nil, fail(outNotFound, "")
	}
	if f != nil {
		return 0, nil, f
	}
	return http.StatusOK, result{outFound, profileAnswer{without(user, s.auth0Omit)}}, nil
}
