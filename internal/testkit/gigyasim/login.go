package gigyasim

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
)

// loginState is the failed-login counter of one account (RBA lockout).
type loginState struct {
	failures    int
	lockedUntil time.Time
}

// includeSections maps accounts.login include values to the top-level account
// keys they unlock (docs/apis/gigya.md, "Account fields"). Keys not listed
// here are always returned.
var includeSections = map[string][]string{
	"identities-active": {"identities"},
	"identities-all":    {"identities"},
	"identities-global": {"identities"},
	"loginIDs":          {"loginIDs"},
	"emails":            {"emails"},
	"profile":           {"profile"},
	"data":              {"data"},
	"memberships":       {"memberships"},
	"password":          {"password"},
	"isLockedOut":       {"isLockedOut", "lockedUntil"},
	"lastLoginLocation": {"lastLoginLocation"},
	"regSource":         {"regSource"},
	"irank":             {"iRank"},
	"rba":               {"rbaPolicy"},
	"subscriptions":     {"subscriptions"},
	"userInfo":          {"userInfo"},
	"preferences":       {"preferences"},
	"groups":            {"groups"},
	"internal":          {"internal"},
	"customIdentifiers": {"customIdentifiers"},
	// Accepted, nothing to add in the simulator.
	"missing-required-fields": nil,
	"id_token":                nil,
}

// defaultLoginInclude is used without an include parameter (the older
// getAccountInfo default: docs/apis/gigya.md, "Account fields").
const defaultLoginInclude = "profile,data"

func parseInclude(s string) (map[string]bool, *gerr) {
	if strings.TrimSpace(s) == "" {
		s = defaultLoginInclude
	}
	out := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		keys, ok := includeSections[part]
		if !ok {
			return nil, newErr(codeInvalidParameter, "include: unknown value "+part)
		}
		for _, k := range keys {
			out[k] = true
		}
	}
	return out, nil
}

// gatedKeys are the account keys returned only when included.
var gatedKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, keys := range includeSections {
		for _, k := range keys {
			m[k] = true
		}
	}
	return m
}()

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Sim) login(w http.ResponseWriter, c *call, form url.Values) {
	loginID, password := form.Get("loginID"), form.Get("password")
	if loginID == "" {
		s.sendError(w, c, newErr(codeMissingParameter, "loginID"))
		return
	}
	if password == "" {
		s.sendError(w, c, newErr(codeMissingParameter, "password"))
		return
	}
	include, e := parseInclude(form.Get("include"))
	if e != nil {
		s.sendError(w, c, e)
		return
	}
	mobile := form.Get("targetEnv") == "mobile"

	s.mu.Lock()
	r := s.st.lookupLogin(loginID)
	if r == nil {
		s.mu.Unlock()
		s.sendError(w, c, newErr(codeInvalidLoginID, "invalid loginID or password"))
		return
	}
	now := s.now()
	if ls := s.logins[r.uid]; ls != nil && now.Before(ls.lockedUntil) {
		until := ls.lockedUntil
		s.mu.Unlock()
		s.sendLocked(w, c, until)
		return
	}
	s.mu.Unlock()

	// The hash check runs outside the lock: a production-cost bcrypt would
	// otherwise stall every other request.
	v := verifyPassword(r.raw, password)

	s.mu.Lock()
	ls := s.logins[r.uid]
	if ls == nil {
		ls = &loginState{}
		s.logins[r.uid] = ls
	}
	if now.Before(ls.lockedUntil) { // locked by a concurrent attempt
		until := ls.lockedUntil
		s.mu.Unlock()
		s.sendLocked(w, c, until)
		return
	}
	if v != pwMatch {
		// Unknown plaintext (the sample's md5_crypt strings, custom) and accounts without a
		// password fail like a wrong password.
		ls.failures++
		if s.opts.LockoutAfter > 0 && ls.failures >= s.opts.LockoutAfter {
			ls.failures = 0
			ls.lockedUntil = now.Add(s.opts.LockoutFor)
		}
		s.mu.Unlock()
		s.sendError(w, c, newErr(codeInvalidLoginID, "invalid loginID or password"))
		return
	}
	ls.failures = 0
	switch {
	case r.isActive == triFalse:
		s.mu.Unlock()
		s.sendError(w, c, newErr(codeAccountDisabled, "account is disabled (isActive=false)"))
		return
	case r.isRegist == triFalse:
		s.mu.Unlock()
		e := newErr(codePendingRegistration, "registration not finalized or required field missing")
		e.extra = map[string]any{"regToken": randomToken(24)}
		s.sendError(w, c, e)
		return
	case s.opts.RequireVerification && r.isVerified != triTrue:
		s.mu.Unlock()
		e := newErr(codePendingVerification, "account pending email verification")
		e.extra = map[string]any{"regToken": randomToken(24), "UID": r.uid}
		s.sendError(w, c, e)
		return
	}
	raw := r.raw
	if !s.opts.KeepTimestampsOnLogin {
		// Gigya bumps lastLogin and lastUpdatedTimestamp on a login
		// (docs/apis/gigya.md, "Incremental extraction").
		if cur, ok := s.st.byUID[r.uid]; ok {
			ms := s.nextUpdatedLocked()
			extra := map[string]any{
				"lastLogin":          isoMillis(ms),
				"lastLoginTimestamp": ms,
				"loginProvider":      "site",
			}
			if err := s.storeLocked(r.uid, cur.raw, extra); err == nil {
				raw = s.st.byUID[r.uid].raw
			}
		}
	}
	s.mu.Unlock()
	s.stats.add(func(st *Stats) { st.Logins++ })
	s.sendLogin(w, c, raw, include, mobile)
}

func (s *Sim) sendLocked(w http.ResponseWriter, c *call, until time.Time) {
	e := newErr(codeLockedOut, "account temporarily locked out until "+until.UTC().Format("2006-01-02T15:04:05.000Z"))
	e.extra = map[string]any{"lockedUntil": until.UTC().Format("2006-01-02T15:04:05.000Z")}
	s.sendError(w, c, e)
}

func (s *Sim) sendLogin(w http.ResponseWriter, c *call, raw []byte, include map[string]bool, mobile bool) {
	acct, err := decodeAccount(raw)
	if err != nil {
		s.sendError(w, c, newErr(codeGeneralServerError, "stored account is not valid JSON"))
		return
	}
	for k := range acct {
		if gatedKeys[k] && !include[k] {
			delete(acct, k)
		}
	}
	if mobile {
		acct["sessionInfo"] = map[string]any{
			"sessionToken":  "st2." + randomToken(32),
			"sessionSecret": base64.StdEncoding.EncodeToString([]byte(randomToken(20))),
		}
	} else {
		acct["sessionInfo"] = map[string]any{
			"cookieName":  "glt_" + s.opts.APIKey,
			"cookieValue": "st2." + randomToken(32),
		}
	}
	// The envelope's own keys win over account keys of the same name.
	for _, k := range []string{"callId", "errorCode", "errorMessage", "errorDetails", "apiVersion", "statusCode", "statusReason", "time"} {
		delete(acct, k)
	}
	ab, err := json.Marshal(acct)
	if err != nil {
		s.sendError(w, c, newErr(codeGeneralServerError, "cannot encode account"))
		return
	}
	body := spliceObject(s.envelopeJSON(0, ""), ab)
	s.write(w, c, http.StatusOK, body)
}
