package loginradius

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
)

// TestLoginAndForgotPassword: a login answers LoginRadius' answer, a
// refusal included, as a status and a body; a password the policy refuses
// at Account Create is an *Error with its ErrorCode; a reset is started.
func TestLoginAndForgotPassword(t *testing.T) {
	sim := lrsim.New(lrsim.Options{BcryptCost: 4, MinPasswordLength: 8})
	c, _ := simClient(t, sim, nil)
	ctx := t.Context()
	_, err := c.CreateAccount(ctx, []byte(`{"Uid":"w1","Email":[{"Type":"Primary","Value":"w@example.com"}],"Password":"short"}`))
	var e *Error
	if !errors.As(err, &e) || e.ErrorCode != 1216 || strings.Contains(err.Error(), "short") {
		t.Fatalf("weak password: %v", err)
	}
	if _, err := c.CreateAccount(ctx, []byte(`{"Uid":"a1","Email":[{"Type":"Primary","Value":"a@example.com"}],"Password":"long enough password"}`)); err != nil {
		t.Fatal(err)
	}
	status, body, err := c.Login(ctx, "A@example.com", "long enough password")
	var ok struct {
		AccessToken string         `json:"access_token"`
		Profile     map[string]any `json:"Profile"`
	}
	if err != nil || status != http.StatusOK || json.Unmarshal(body, &ok) != nil || ok.AccessToken == "" || ok.Profile["Uid"] != "a1" {
		t.Fatalf("login: %d %s %v", status, body, err)
	}
	status, body, err = c.Login(ctx, "a@example.com", "wrong password")
	var refused struct{ ErrorCode int }
	if err != nil || status != http.StatusUnauthorized || json.Unmarshal(body, &refused) != nil || refused.ErrorCode != 966 || strings.Contains(string(body), "wrong password") {
		t.Fatalf("wrong password: %d %s %v", status, body, err)
	}
	if err := c.ForgotPassword(ctx, "a@example.com", "https://app.example.com/reset", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := sim.ResetToken("a@example.com"); !ok {
		t.Fatal("no reset was started")
	}
}
