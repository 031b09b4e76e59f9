package lrsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/lrverify"
)

// readProfile decodes a JSON object body (at most 1 MiB).
func readProfile(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	var p map[string]any
	if err != nil || json.Unmarshal(b, &p) != nil || p == nil {
		writeLR(w, http.StatusBadRequest, errBody)
		return nil, false
	}
	return p, true
}

func (s *Sim) bcrypt(pw string) string {
	b := []byte(pw)
	if len(b) > 72 {
		b = b[:72]
	}
	h, err := bcrypt.GenerateFromPassword(b, s.opts.BcryptCost)
	if err != nil {
		return ""
	}
	return string(h)
}

// handleCreate is Account Create: a profile with an optional plaintext
// Password; no PasswordHash (the Account APIs take none).
func (s *Sim) handleCreate(w http.ResponseWriter, r *http.Request) {
	p, ok := readProfile(w, r)
	if !ok {
		return
	}
	if _, has := p["PasswordHash"]; has {
		writeError(w, http.StatusBadRequest, 1134, "Validation failed for one or more fields", "The Account API takes a plaintext Password, not a PasswordHash.")
		return
	}
	delete(p, "PasswordEncryption")
	if pw, ok := p["Password"].(string); ok && s.weak(pw) {
		writeLR(w, http.StatusForbidden, errWeakPassword)
		return
	}
	s.mu.Lock()
	uid, _ := p["Uid"].(string)
	if uid != "" {
		if _, exists := s.users[uid]; exists {
			s.mu.Unlock()
			writeError(w, http.StatusForbidden, 1134, "Validation failed for one or more fields", "A user with this Uid already exists.")
			return
		}
	}
	if f := s.checkProfile(p, uid, nil, nil); f != nil {
		s.mu.Unlock()
		writeLR(w, f.status, f.lrError)
		return
	}
	if uid == "" {
		uid = randHex(16)
	}
	s.store(uid, p, nil, nil)
	s.stats.Creates++
	out := clone(s.users[uid].profile)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleFind is Account Profiles by email, username or phone.
func (s *Sim) handleFind(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	var uid string
	var ok bool
	switch {
	case q.Get("email") != "":
		uid, ok = s.byEmail[strings.ToLower(q.Get("email"))]
	case q.Get("username") != "":
		uid, ok = s.byName[strings.ToLower(q.Get("username"))]
	case q.Get("phone") != "":
		uid, ok = s.byPhone[q.Get("phone")]
	default:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, 908, "A parameter is not formatted correctly", "email, username or phone is required.")
		return
	}
	var out map[string]any
	if ok {
		out = clone(s.users[uid].profile)
	}
	s.mu.Unlock()
	if !ok {
		writeLR(w, http.StatusForbidden, errNoUser)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleGet is Account Profiles by Uid.
func (s *Sim) handleGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u, ok := s.users[r.PathValue("uid")]
	var out map[string]any
	if ok {
		out = clone(u.profile)
	}
	s.mu.Unlock()
	if !ok {
		writeLR(w, http.StatusForbidden, errNoUser)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleUpdate is Account Update: the given members replace the stored
// ones.
func (s *Sim) handleUpdate(w http.ResponseWriter, r *http.Request) {
	p, ok := readProfile(w, r)
	if !ok {
		return
	}
	uid := r.PathValue("uid")
	if _, has := p["PasswordHash"]; has {
		writeError(w, http.StatusBadRequest, 1134, "Validation failed for one or more fields", "The Account API takes no PasswordHash.")
		return
	}
	delete(p, "PasswordEncryption")
	delete(p, "Password") // changed through the password endpoint only
	s.mu.Lock()
	u, exists := s.users[uid]
	if !exists {
		s.mu.Unlock()
		writeLR(w, http.StatusForbidden, errNoUser)
		return
	}
	if v, has := p["Uid"]; has && v != uid {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, 1134, "Validation failed for one or more fields", "The Uid of an account cannot be changed.")
		return
	}
	merged := clone(u.profile)
	for k, v := range p {
		merged[k] = v
	}
	if f := s.checkProfile(merged, uid, nil, nil); f != nil {
		s.mu.Unlock()
		writeLR(w, f.status, f.lrError)
		return
	}
	s.store(uid, p, nil, nil)
	s.stats.Updates++
	out := clone(s.users[uid].profile)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"IsPosted": true, "Data": out})
}

// handleSetPassword sets a plaintext password.
func (s *Sim) handleSetPassword(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Password string `json:"password"`
	}
	b, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if json.Unmarshal(b, &body) != nil || body.Password == "" {
		writeLR(w, http.StatusBadRequest, errBody)
		return
	}
	if s.weak(body.Password) {
		writeLR(w, http.StatusForbidden, errWeakPassword)
		return
	}
	h := s.bcrypt(body.Password)
	s.mu.Lock()
	u, ok := s.users[r.PathValue("uid")]
	if ok {
		u.bcrypt, u.hash, u.enc, u.encJSON = h, "", nil, nil
	}
	s.mu.Unlock()
	if !ok {
		writeLR(w, http.StatusForbidden, errNoUser)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"PasswordHash": h})
}

// availability answers {"IsExist": bool} for an email, username or phone.
func (s *Sim) availability(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query().Get(kind)
		if v == "" {
			writeError(w, http.StatusBadRequest, 908, "A parameter is not formatted correctly", kind+" is required.")
			return
		}
		s.mu.Lock()
		var ok bool
		switch kind {
		case "email":
			_, ok = s.byEmail[strings.ToLower(v)]
		case "username":
			_, ok = s.byName[strings.ToLower(v)]
		default:
			_, ok = s.byPhone[v]
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]bool{"IsExist": ok})
	}
}

// ErrBlocked is returned by [Sim.Login] for a user whose IsActive is false.
var ErrBlocked = errors.New("lrsim: the account is blocked (IsActive false)")

// Login checks password for the user whose email (any of Email), UserName
// or PhoneId is loginID: a migrated PasswordHash with lrverify under its
// PasswordEncryption, a password set through the APIs with bcrypt. The
// error is non-nil for a blocked user or a hash that cannot be checked.
func (s *Sim) Login(loginID, password string) (bool, error) {
	s.mu.Lock()
	uid, ok := s.byEmail[strings.ToLower(loginID)]
	if !ok {
		uid, ok = s.byName[strings.ToLower(loginID)]
	}
	if !ok {
		uid, ok = s.byPhone[loginID]
	}
	var hash, bc string
	var active any
	var enc *lrverify.Encryption // never changed once parsed: safe to use unlocked
	if ok {
		u := s.users[uid]
		hash, bc, active, enc = u.hash, u.bcrypt, u.profile["IsActive"], u.enc
	}
	s.mu.Unlock()
	good, err := false, error(nil)
	switch {
	case !ok:
	case active == false:
		err = ErrBlocked
	case hash != "" && enc != nil:
		good, err = enc.Verify(hash, password)
	case bc != "":
		b := []byte(password)
		if len(b) > 72 {
			b = b[:72]
		}
		good = bcrypt.CompareHashAndPassword([]byte(bc), b) == nil
	}
	s.mu.Lock()
	if good {
		s.stats.Logins++
	} else {
		s.stats.LoginFailures++
	}
	s.mu.Unlock()
	return good, err
}

func (s *Sim) handleLogin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Email, Username, Phone, Password string
	}
	b, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if json.Unmarshal(b, &body) != nil || body.Password == "" {
		writeLR(w, http.StatusBadRequest, errBody)
		return
	}
	id := body.Email
	if id == "" {
		id = body.Username
	}
	if id == "" {
		id = body.Phone
	}
	ok, err := s.Login(id, body.Password)
	switch {
	case errors.Is(err, ErrBlocked):
		writeLR(w, http.StatusForbidden, errBlocked)
		return
	case err != nil || !ok:
		writeLR(w, http.StatusUnauthorized, errLogin)
		return
	}
	s.mu.Lock()
	uid := s.byEmail[strings.ToLower(id)]
	if uid == "" {
		uid = s.byName[strings.ToLower(id)]
	}
	if uid == "" {
		uid = s.byPhone[id]
	}
	profile := clone(s.users[uid].profile)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": randHex(16), "expires_in": "", "Profile": profile})
}

func (s *Sim) handleForgot(w http.ResponseWriter, r *http.Request) {
	var body struct{ Email string }
	b, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if json.Unmarshal(b, &body) != nil || body.Email == "" {
		writeLR(w, http.StatusBadRequest, errBody)
		return
	}
	s.mu.Lock()
	uid, ok := s.byEmail[strings.ToLower(body.Email)]
	if ok {
		tok := randHex(16)
		s.resets[tok] = uid
		s.tokens[strings.ToLower(body.Email)] = tok
	}
	s.mu.Unlock()
	if !ok {
		writeLR(w, http.StatusForbidden, errNoUser)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"IsPosted": true})
}

func (s *Sim) handleReset(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ResetToken string `json:"resettoken"`
		Password   string `json:"password"`
	}
	b, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if json.Unmarshal(b, &body) != nil || body.Password == "" {
		writeLR(w, http.StatusBadRequest, errBody)
		return
	}
	if s.weak(body.Password) {
		writeLR(w, http.StatusForbidden, errWeakPassword)
		return
	}
	h := s.bcrypt(body.Password)
	s.mu.Lock()
	uid, ok := s.resets[body.ResetToken]
	if ok {
		delete(s.resets, body.ResetToken)
		u := s.users[uid]
		u.bcrypt, u.hash, u.enc, u.encJSON = h, "", nil, nil
	}
	s.mu.Unlock()
	if !ok {
		writeLR(w, http.StatusForbidden, errLink)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"IsPosted": true})
}

// weak reports whether the tenant's password policy refuses pw
// (Options.MinPasswordLength).
func (s *Sim) weak(pw string) bool {
	return s.opts.MinPasswordLength > 0 && utf8.RuneCountInString(pw) < s.opts.MinPasswordLength
}
