package lrsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/lrverify"
)

// failure is one refused profile of a bulk upsert, or one failed Account
// API call.
type failure struct {
	status int
	lrError
}

func fail(status, code int, message, description string) *failure {
	return &failure{status: status, lrError: lrError{ErrorCode: code, Message: message, Description: description}}
}

// bulkBody is the bulk upsert request ("Request body").
type bulkBody struct {
	PasswordEncryption json.RawMessage   `json:"PasswordEncryption"`
	Profiles           []json.RawMessage `json:"Profiles"`
}

// failedItem is an entry of the response's Failed (simulator choice: the
// profile's Uid and Email with LoginRadius' error members).
type failedItem struct {
	Uid   string `json:"Uid,omitempty"`
	Email any    `json:"Email,omitempty"`
	lrError
}

func (s *Sim) handleBulk(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.InFlight++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.InFlight--
		s.mu.Unlock()
	}()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.opts.MaxRequestBytes)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, errBody.ErrorCode, errBody.Message,
				fmt.Sprintf("The request body is larger than %d bytes (10MB per request).", s.opts.MaxRequestBytes))
			return
		}
		writeLR(w, http.StatusBadRequest, errBody)
		return
	}
	var req bulkBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.Profiles) == 0 {
		writeLR(w, http.StatusBadRequest, errBody)
		return
	}
	var enc *lrverify.Encryption
	if len(req.PasswordEncryption) > 0 && string(req.PasswordEncryption) != "null" {
		if enc, err = lrverify.Parse(req.PasswordEncryption); err != nil {
			writeError(w, http.StatusBadRequest, 1134, "Validation failed for one or more fields", "PasswordEncryption: "+err.Error())
			return
		}
	}
	s.mu.Lock()
	slow := s.takeFault(FaultSlow)
	if slow {
		s.stats.Held++
	}
	s.mu.Unlock()
	if slow {
		// Not r.Context(): the request is processed whether or not its
		// client still waits for the answer.
		time.Sleep(s.opts.SlowDelay)
	}
	s.mu.Lock()
	if slow {
		s.stats.Held--
	}
	unattributed := s.takeFault(FaultUnattributed)
	lost := s.takeFault(FaultLostAnswer)
	inserted, updated := 0, 0
	failed := []failedItem{}
	for _, raw := range req.Profiles {
		var p map[string]any
		if err := json.Unmarshal(raw, &p); err != nil || p == nil {
			failed = append(failed, failedItem{lrError: errBody})
			continue
		}
		uid, _ := p["Uid"].(string)
		if f := s.checkProfile(p, uid, enc, req.PasswordEncryption); f != nil {
			it := failedItem{Uid: uid, Email: p["Email"], lrError: f.lrError}
			if unattributed {
				it.Uid, it.Email = "", nil
			}
			failed = append(failed, it)
			continue
		}
		if uid == "" {
			uid = randHex(16)
			p["Uid"] = uid
		}
		if _, exists := s.users[uid]; exists {
			updated++
		} else {
			inserted++
		}
		s.store(uid, p, enc, req.PasswordEncryption)
	}
	s.stats.BulkRequests++
	s.stats.BulkBytes += len(body)
	s.stats.MaxBulkBytes = max(s.stats.MaxBulkBytes, len(body))
	s.stats.BulkProfiles += len(req.Profiles)
	if enc != nil {
		s.stats.BulkEncryptions++
	}
	s.stats.Inserted += inserted
	s.stats.Updated += updated
	s.stats.Failed += len(failed)
	s.mu.Unlock()
	if lost {
		// The profiles are stored; the answer never reaches the client.
		// The server closes the connection without logging.
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, http.StatusOK, map[string]any{"Profile": map[string]any{
		"RecordInserted": inserted, "RecordUpdated": updated, "Failed": failed,
	}})
}

// checkProfile applies the rules of a profile (docs/apis/loginradius.md,
// "Profile", "Errors"; the strictness is a simulator choice): p would be
// stored under uid ("" for a new user). enc is the request's encryption, nil
// for the Account APIs, which take no hash. s.mu held.
func (s *Sim) checkProfile(p map[string]any, uid string, enc *lrverify.Encryption, encJSON json.RawMessage) *failure {
	if code := s.refuse[uid]; code != 0 && uid != "" {
		s.stats.Refused++
		msg := refusalMessages[code]
		if msg == "" {
			msg = "The profile was refused"
		}
		return fail(http.StatusForbidden, code, msg, "Refused by the simulator for this Uid (lrsim.Sim.Refuse).")
	}
	if v, ok := p["Uid"]; ok {
		str, isStr := v.(string)
		if !isStr || !uidOK(str) {
			return fail(http.StatusForbidden, 1200, "Uid is not valid", "The uid is not valid, The uid can contains alphabets, digits, underscore and dash only and length must be between 1 to 50.")
		}
	}
	emails, f := emailsOf(p)
	if f != nil {
		return f
	}
	phone, _ := p["PhoneId"].(string)
	if len(emails) == 0 && phone == "" && !hasIdentity(p) {
		return fail(http.StatusForbidden, 1134, "Validation failed for one or more fields", "The profile needs an Email, a PhoneId or a social identity.")
	}
	for _, e := range emails {
		if holder, ok := s.byEmail[e]; ok && holder != uid {
			return fail(http.StatusForbidden, 936, "Email address is already registered with your LoginRadius site", "The email address has to be unique for your LoginRadius site, please use a different email address.")
		}
	}
	if name := userName(p); name != "" {
		if holder, ok := s.byName[strings.ToLower(name)]; ok && holder != uid {
			return fail(http.StatusForbidden, 1017, "This username is already registered with this website", "The username you have selected is already in use, please choose a different username.")
		}
	}
	if phone != "" {
		if holder, ok := s.byPhone[phone]; ok && holder != uid {
			return fail(http.StatusForbidden, 1058, "Phone number is already registered with your LoginRadius site", "The phone number has to be unique for your LoginRadius site.")
		}
	}
	if cf, ok := p["CustomFields"]; ok && cf != nil {
		m, isObj := cf.(map[string]any)
		if !isObj {
			return fail(http.StatusForbidden, 1134, "Validation failed for one or more fields", "CustomFields must be an object of strings.")
		}
		for k, v := range m {
			if _, isStr := v.(string); !isStr {
				return fail(http.StatusForbidden, 1134, "Validation failed for one or more fields", "CustomFields."+k+" must be a string.")
			}
		}
	}
	if pw, ok := p["Password"]; ok {
		if _, isStr := pw.(string); !isStr {
			return fail(http.StatusForbidden, 1134, "Validation failed for one or more fields", "Password must be a string.")
		}
	}
	if h, ok := p["PasswordHash"]; ok {
		hash, isStr := h.(string)
		switch {
		case !isStr || hash == "":
			return fail(http.StatusForbidden, 1134, "Validation failed for one or more fields", "PasswordHash must be a non-empty string.")
		case enc == nil && !strings.HasPrefix(hash, "Rfc2898DeriveBytes$"):
			return fail(http.StatusForbidden, 1134, "Validation failed for one or more fields", "A PasswordHash needs the request's PasswordEncryption.")
		}
		e := enc
		if e == nil {
			e = &lrverify.Encryption{Type: lrverify.PBKDF2, IsPerPasswordSalt: true, SaltAttachType: lrverify.AttachNone}
		}
		// Any password will do: a malformed hash is an error, a wrong
		// password is not.
		if _, err := e.Verify(hash, "\x00probe"); err != nil {
			return fail(http.StatusForbidden, 1134, "Validation failed for one or more fields", "PasswordHash does not fit PasswordEncryption: "+err.Error())
		}
	}
	return nil
}

// refusalMessages are LoginRadius' messages of the codes [Sim.Refuse] is
// given most ("Errors").
var refusalMessages = map[int]string{
	936: "Email address is already registered with your LoginRadius site", 990: "This email is invalid",
	1017: "This username is already registered with this website", 1058: "Phone number is already registered with your LoginRadius site",
	1134: "Validation failed for one or more fields", 1200: "Uid is not valid",
}

// store upserts p under uid; s.mu held.
func (s *Sim) store(uid string, p map[string]any, enc *lrverify.Encryption, encJSON json.RawMessage) {
	u, exists := s.users[uid]
	if !exists {
		u = &user{profile: map[string]any{}}
		s.users[uid] = u
		s.order = append(s.order, uid)
	}
	s.unindex(uid, u.profile)
	for k, v := range p {
		switch k {
		case "PasswordHash":
			u.hash, _ = v.(string)
			u.enc, u.encJSON = enc, append(json.RawMessage(nil), encJSON...)
			if enc == nil {
				u.enc = &lrverify.Encryption{Type: lrverify.PBKDF2, IsPerPasswordSalt: true, SaltAttachType: lrverify.AttachNone}
				u.encJSON = json.RawMessage(`{"Type":"PBKDF2"}`)
			}
			u.bcrypt = ""
		case "Password":
			pw, _ := v.(string)
			u.bcrypt, u.hash, u.enc, u.encJSON = s.bcrypt(pw), "", nil, nil
		case "PasswordEncryption":
		default:
			u.profile[k] = v
		}
	}
	u.profile["Uid"] = uid
	s.index(uid, u.profile)
	if s.opts.OnWrite != nil {
		s.opts.OnWrite(uid, clone(u.profile))
	}
}

func (s *Sim) index(uid string, p map[string]any) {
	em, _ := emailsOf(p)
	for _, e := range em {
		s.byEmail[e] = uid
	}
	if n := userName(p); n != "" {
		s.byName[strings.ToLower(n)] = uid
	}
	if ph, _ := p["PhoneId"].(string); ph != "" {
		s.byPhone[ph] = uid
	}
}

func (s *Sim) unindex(uid string, p map[string]any) {
	em, _ := emailsOf(p)
	for _, e := range em {
		if s.byEmail[e] == uid {
			delete(s.byEmail, e)
		}
	}
	if n := strings.ToLower(userName(p)); n != "" && s.byName[n] == uid {
		delete(s.byName, n)
	}
	if ph, _ := p["PhoneId"].(string); ph != "" && s.byPhone[ph] == uid {
		delete(s.byPhone, ph)
	}
}

// emailsOf returns the lower-cased addresses of p's Email.
func emailsOf(p map[string]any) ([]string, *failure) {
	v, ok := p["Email"]
	if !ok || v == nil {
		return nil, nil
	}
	items, isArr := v.([]any)
	if !isArr {
		return nil, fail(http.StatusForbidden, 1134, "Validation failed for one or more fields", "Email must be an array of {Type, Value}.")
	}
	var out []string
	for _, it := range items {
		m, _ := it.(map[string]any)
		val, _ := m["Value"].(string)
		if _, t := m["Type"].(string); !t || !emailOK(val) {
			return nil, fail(http.StatusForbidden, 990, "This email is invalid", "This is not a valid email address, please use a valid email address.")
		}
		out = append(out, strings.ToLower(val))
	}
	return out, nil
}

func emailOK(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && strings.Count(s, "@") == 1 && strings.Contains(s[at:], ".") && !strings.ContainsAny(s, " ,;<>")
}

func hasIdentity(p map[string]any) bool {
	items, _ := p["Identities"].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		prov, _ := m["Provider"].(string)
		id, _ := m["ID"].(string)
		if prov != "" && id != "" {
			return true
		}
	}
	return false
}

func userName(p map[string]any) string {
	if n, _ := p["UserName"].(string); n != "" {
		return n
	}
	n, _ := p["Username"].(string)
	return n
}

// uidOK is LoginRadius' Uid rule (error 1200).
func uidOK(s string) bool {
	if len(s) < 1 || len(s) > 50 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == ""
}
