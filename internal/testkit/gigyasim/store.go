package gigyasim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
)

// tri is a boolean that may be absent from the account.
type tri uint8

const (
	triAbsent tri = iota
	triFalse
	triTrue
)

func triOf(b *bool) tri {
	switch {
	case b == nil:
		return triAbsent
	case *b:
		return triTrue
	default:
		return triFalse
	}
}

// record is the small parsed index of one stored account. Records are
// immutable once built: Put, Update and logins replace the whole record, so
// an open cursor (which holds record pointers) keeps a point-in-time view.
type record struct {
	uid     string
	raw     []byte
	updated int64 // lastUpdatedTimestamp, ms
	created int64 // createdTimestamp, ms
	// hasCreated reports whether createdTimestamp was present.
	hasCreated bool
	// email is profile.email lowercased ("" when none).
	email string
	// loginEmails are loginIDs.emails and loginIDs.unverifiedEmails, lowercased.
	loginEmails []string
	// verifiedLogins are loginIDs.emails alone, lowercased (WHERE loginIDs.emails).
	verifiedLogins []string
	isActive       tri
	isRegist       tri
	isVerified     tri
	// hasLite is hasLiteAccount == true. hasFull is hasFullAccount when
	// present, otherwise "not a lite account": generated full accounts do not
	// carry the flag (see doc.go).
	hasLite bool
	hasFull bool
}

// probe is the part of an account the index needs.
type probe struct {
	UID                  *string     `json:"UID"`
	CreatedTimestamp     json.Number `json:"createdTimestamp"`
	LastUpdatedTimestamp json.Number `json:"lastUpdatedTimestamp"`
	IsActive             *bool       `json:"isActive"`
	IsRegistered         *bool       `json:"isRegistered"`
	IsVerified           *bool       `json:"isVerified"`
	HasLiteAccount       *bool       `json:"hasLiteAccount"`
	HasFullAccount       *bool       `json:"hasFullAccount"`
	Profile              *struct {
		Email string `json:"email"`
	} `json:"profile"`
	LoginIDs *struct {
		Emails           []string `json:"emails"`
		UnverifiedEmails []string `json:"unverifiedEmails"`
	} `json:"loginIDs"`
}

// errNoUID is returned for account JSON without a string UID.
var errNoUID = errors.New("gigyasim: account has no UID")

// parseRecord indexes raw, which it keeps (the caller must not modify it).
func parseRecord(raw []byte) (*record, error) {
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("gigyasim: account JSON: %w", err)
	}
	if p.UID == nil || strings.TrimSpace(*p.UID) == "" {
		return nil, errNoUID
	}
	r := &record{
		uid:        *p.UID,
		raw:        raw,
		isActive:   triOf(p.IsActive),
		isRegist:   triOf(p.IsRegistered),
		isVerified: triOf(p.IsVerified),
		hasLite:    p.HasLiteAccount != nil && *p.HasLiteAccount,
	}
	if p.HasFullAccount != nil {
		r.hasFull = *p.HasFullAccount
	} else {
		r.hasFull = !r.hasLite
	}
	var ok bool
	if p.LastUpdatedTimestamp != "" {
		if r.updated, ok = numberMillis(p.LastUpdatedTimestamp); !ok {
			return nil, fmt.Errorf("gigyasim: account %s: lastUpdatedTimestamp %q is not a number", r.uid, p.LastUpdatedTimestamp)
		}
	}
	if p.CreatedTimestamp != "" {
		if r.created, ok = numberMillis(p.CreatedTimestamp); !ok {
			return nil, fmt.Errorf("gigyasim: account %s: createdTimestamp %q is not a number", r.uid, p.CreatedTimestamp)
		}
		r.hasCreated = true
	}
	if p.Profile != nil {
		r.email = strings.ToLower(strings.TrimSpace(p.Profile.Email))
	}
	if p.LoginIDs != nil {
		for _, e := range p.LoginIDs.Emails {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" && !slices.Contains(r.verifiedLogins, e) {
				r.verifiedLogins = append(r.verifiedLogins, e)
			}
		}
		for _, e := range slices.Concat(p.LoginIDs.Emails, p.LoginIDs.UnverifiedEmails) {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" && !slices.Contains(r.loginEmails, e) {
				r.loginEmails = append(r.loginEmails, e)
			}
		}
	}
	return r, nil
}

func numberMillis(n json.Number) (int64, bool) {
	if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return v, true
	}
	if f, err := strconv.ParseFloat(string(n), 64); err == nil {
		return int64(f), true
	}
	return 0, false
}

// less orders records by (lastUpdatedTimestamp, UID): the index order, which
// is also the result order of a query without ORDER BY.
func less(a, b *record) int {
	if a.updated != b.updated {
		if a.updated < b.updated {
			return -1
		}
		return 1
	}
	return strings.Compare(a.uid, b.uid)
}

// store holds every account. It is guarded by Sim.mu.
type store struct {
	order []*record // sorted by less
	byUID map[string]*record
	// byLogin maps a lowercased email to the UIDs of full accounts that
	// carry it as a login ID or as profile.email.
	byLogin map[string][]string
	// maxUpdated is the largest lastUpdatedTimestamp ever stored (deleted
	// accounts included), so that bumps are strictly increasing.
	maxUpdated int64
}

func newStore(n int) *store {
	return &store{
		order:   make([]*record, 0, n),
		byUID:   make(map[string]*record, n),
		byLogin: make(map[string][]string, n),
	}
}

func (st *store) pos(r *record) (int, bool) {
	return slices.BinarySearchFunc(st.order, r, less)
}

// insert adds r, replacing the record with the same UID if any.
func (st *store) insert(r *record) {
	if old, ok := st.byUID[r.uid]; ok {
		st.remove(old)
	}
	i, _ := st.pos(r)
	st.order = slices.Insert(st.order, i, r)
	st.byUID[r.uid] = r
	st.indexLogin(r)
	st.maxUpdated = max(st.maxUpdated, r.updated)
}

func (st *store) remove(r *record) {
	if i, ok := st.pos(r); ok {
		st.order = slices.Delete(st.order, i, i+1)
	}
	delete(st.byUID, r.uid)
	for _, e := range loginKeys(r) {
		uids := slices.DeleteFunc(st.byLogin[e], func(u string) bool { return u == r.uid })
		if len(uids) == 0 {
			delete(st.byLogin, e)
		} else {
			st.byLogin[e] = uids
		}
	}
}

func (st *store) indexLogin(r *record) {
	for _, e := range loginKeys(r) {
		st.byLogin[e] = append(st.byLogin[e], r.uid)
	}
}

// loginKeys are the emails a full account can log in with.
func loginKeys(r *record) []string {
	if !r.hasFull {
		return nil
	}
	keys := slices.Clone(r.loginEmails)
	if r.email != "" && !slices.Contains(keys, r.email) {
		keys = append(keys, r.email)
	}
	return keys
}

// lookupLogin finds the account for a loginID: an account that lists the
// email among its loginIDs wins over one that only has it as profile.email;
// remaining ties go to the smallest UID.
func (st *store) lookupLogin(loginID string) *record {
	var best *record
	bestScore := 0
	for _, uid := range st.byLogin[strings.ToLower(strings.TrimSpace(loginID))] {
		r := st.byUID[uid]
		if r == nil {
			continue
		}
		score := 1
		if slices.Contains(r.loginEmails, strings.ToLower(strings.TrimSpace(loginID))) {
			score = 2
		}
		if best == nil || score > bestScore || (score == bestScore && r.uid < best.uid) {
			best, bestScore = r, score
		}
	}
	return best
}

// decodeAccount decodes account JSON into a map, keeping numbers exact.
func decodeAccount(raw []byte) (map[string]any, error) {
	var m map[string]any
	if _, err := json.Parse(raw, &m, json.UseNumber); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("gigyasim: account JSON is not an object")
	}
	return m, nil
}

// isoMillis renders ms since the epoch as Gigya does (UTC, three fraction digits, Z).
func isoMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// setUpdated returns raw with lastUpdated/lastUpdatedTimestamp set to ms,
// plus any further top-level fields in extra.
func setUpdated(raw []byte, ms int64, extra map[string]any) ([]byte, error) {
	m, err := decodeAccount(raw)
	if err != nil {
		return nil, err
	}
	m["lastUpdatedTimestamp"] = ms
	m["lastUpdated"] = isoMillis(ms)
	for k, v := range extra {
		m[k] = v
	}
	return json.Marshal(m)
}
