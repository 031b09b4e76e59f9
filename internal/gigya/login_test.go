package gigya

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

func TestLoginSuccess(t *testing.T) {
	s := newServer(t, sequence(`{"statusCode":200,"errorCode":0,"statusReason":"OK","callId":"c","time":"t","apiVersion":2,
		"UID":"u1","profile":{"email":"a@x.test"},"data":{"tier":"gold"},
		"sessionInfo":{"sessionToken":"st","sessionSecret":"ss"},"UIDSignature":"sig","signatureTimestamp":"1"}`))
	c, _ := newTestClient(t, testConfig(s.URL))
	acc, err := c.Login(context.Background(), "a@x.test", "pw-123")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(acc, &m); err != nil {
		t.Fatal(err)
	}
	if string(m["UID"]) != `"u1"` || string(m["profile"]) != `{"email":"a@x.test"}` || string(m["data"]) != `{"tier":"gold"}` || len(m) != 3 {
		t.Fatalf("account %s", acc)
	}
	r := s.requests()[0]
	if r.Path != "/accounts.login" || r.Form.Get("loginID") != "a@x.test" || r.Form.Get("password") != "pw-123" ||
		r.Form.Get("include") != "profile,data,loginIDs,emails,identities-all,preferences,subscriptions" ||
		r.Form.Get("targetEnv") != "mobile" || r.Form.Get("secret") != testSecret || r.Form.Get("format") != "json" || r.Form.Has("timeout") {
		t.Fatalf("login form %v", r.Form)
	}
}

func TestLoginErrors(t *testing.T) {
	tests := []struct {
		code     int
		sentinel error
		fcode    string
		account  bool // the account comes back with the error
	}{
		{403042, ErrInvalidCredentials, CodeInvalidCredentials, false},
		{403047, ErrInvalidCredentials, CodeInvalidCredentials, false},
		{401030, ErrInvalidCredentials, CodeInvalidCredentials, false},
		{403041, ErrAccountDisabled, CodeAccountDisabled, false},
		{403120, ErrAccountLocked, CodeAccountLocked, false},
		{401020, ErrCaptchaRequired, CodeCaptchaRequired, false},
		{206001, ErrPending, CodePendingRegistration, true},
		{206002, ErrPending, CodePendingVerification, true},
		{403100, ErrPending, CodePendingPasswordChange, true},
		{403101, ErrPending, CodePendingTFA, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			s := newServer(t, sequence(fmt.Sprintf(`{"statusCode":403,"errorCode":%d,"errorMessage":"m","UID":"u1","regToken":"rt","profile":{"email":"a@x.test"}}`, tt.code)))
			c, _ := newTestClient(t, testConfig(s.URL))
			acc, err := c.Login(context.Background(), "a@x.test", "pw-123")
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			wantFault(t, err, fault.KindPermanent, tt.fcode)
			if PasswordVerified(err) != (tt.sentinel == ErrPending) {
				t.Fatalf("PasswordVerified = %t", PasswordVerified(err))
			}
			if tt.account {
				if !strings.Contains(string(acc), `"UID":"u1"`) || strings.Contains(string(acc), "regToken") || strings.Contains(string(acc), "errorCode") {
					t.Fatalf("pending account %s", acc)
				}
			} else if acc != nil {
				t.Fatalf("account %s returned with %v", acc, err)
			}
			if n := len(s.requests()); n != 1 {
				t.Fatalf("login sent %d times", n)
			}
		})
	}
}

func TestLoginRetriesTransient(t *testing.T) {
	s := newServer(t, sequence(`{"statusCode":500,"errorCode":500001}`, `{"statusCode":200,"errorCode":0,"UID":"u1"}`))
	c, _ := newTestClient(t, testConfig(s.URL))
	acc, err := c.Login(context.Background(), "a", "pw-123")
	if err != nil || string(acc) != `{"UID":"u1"}` {
		t.Fatalf("Login = %s, %v", acc, err)
	}
}

func TestLoginEmptyCredentials(t *testing.T) {
	s := newServer(t, sequence(okBody))
	c, _ := newTestClient(t, testConfig(s.URL))
	for _, tc := range [][2]string{{"a@x.test", ""}, {" ", "pw"}} {
		_, err := c.Login(context.Background(), tc[0], tc[1])
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("Login(%q, %q) err = %v", tc[0], tc[1], err)
		}
		wantFault(t, err, fault.KindPermanent, CodeInvalidCredentials)
	}
	if n := len(s.requests()); n != 0 {
		t.Fatalf("%d requests", n)
	}
}
