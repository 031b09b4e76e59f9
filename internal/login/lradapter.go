package login

import (
	"context"
	"errors"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/targets/loginradius"
)

// NewLoginRadius adapts a LoginRadius client (internal/targets/loginradius)
// to the API mode.
func NewLoginRadius(c *loginradius.Client) LoginRadius { return lrAdapter{c} }

type lrAdapter struct{ c *loginradius.Client }

func (a lrAdapter) EmailExists(ctx context.Context, email string) (bool, error) {
	ok, err := a.c.EmailExists(ctx, email)
	return ok, coded(err)
}

func (a lrAdapter) CreateAccount(ctx context.Context, profile []byte) error {
	_, err := a.c.CreateAccount(ctx, profile)
	return coded(err)
}

func (a lrAdapter) Login(ctx context.Context, email, password string) (int, json.RawMessage, error) {
	status, body, err := a.c.Login(ctx, email, password)
	return status, body, coded(err)
}

func (a lrAdapter) ForgotPassword(ctx context.Context, email, resetURL, template string) error {
	return coded(a.c.ForgotPassword(ctx, email, resetURL, template))
}

// codedError gives the service the ErrorCode of a LoginRadius error answer
// (LoginRadiusError), keeping the error's classification (fault).
type codedError struct {
	error
	code int
}

func (e codedError) Unwrap() error        { return e.error }
func (e codedError) LoginRadiusCode() int { return e.code }

func coded(err error) error {
	var e *loginradius.Error
	if err != nil && errors.As(err, &e) && e.ErrorCode != 0 {
		return codedError{err, e.ErrorCode}
	}
	return err
}
