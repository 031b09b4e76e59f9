package sample

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Timestamps are spread over 2012–2025: accounts are created up to a month
// before the horizon so that even the newest ones have some history.
const (
	firstCreated = 1325376000000 // 2012-01-01T00:00:00.000Z
	lastCreated  = 1764547199999 // 2025-11-30T23:59:59.999Z
	horizon      = 1767225599999 // 2025-12-31T23:59:59.999Z
)

// kindWeights is the mix of a typical consumer tenant: mostly site users.
var kindWeights = []struct {
	kind   string
	weight int
}{
	{KindSite, 55}, {KindSocial, 15}, {KindMulti, 20}, {KindLite, 10},
}

// builder holds the state of one account while it is generated.
type builder struct {
	rng   *rand.Rand
	opts  Options
	uid   string
	token string // unique per account, keeps generated emails unique
	doc   accountDoc
}

// person is who the account belongs to, before any of it is written down.
type person struct {
	first   name
	last    name // zero when the user never gave a last name
	country country
	city    city
	email   string
}

// timeline holds the account's ms timestamps. Everything happens between
// created and updated, because Gigya bumps lastUpdated on logins too
// (docs/apis/gigya.md, "Incremental extraction").
type timeline struct {
	created, updated, registered, verified, lastLogin, oldest int64
}

func (b *builder) build() Account {
	n := b.rng.IntN(100)
	kind := kindWeights[0].kind
	for _, kw := range kindWeights {
		if n < kw.weight {
			kind = kw.kind
			break
		}
		n -= kw.weight
	}
	b.doc.UID = b.uid
	switch kind {
	case KindSocial:
		return b.social()
	case KindMulti:
		return b.siteUser(true)
	case KindLite:
		return b.lite()
	default:
		return b.siteUser(false)
	}
}

// siteUser builds a site (email + password) user; with multi it links one
// to three social identities as well.
func (b *builder) siteUser(multi bool) Account {
	p := b.person(true)
	verified := b.chance(0.88)
	t := b.timeline(verified)
	b.setTimes(t)
	b.doc.IsActive = ptr(!b.chance(0.03))
	b.doc.IsRegistered = true
	b.doc.IsVerified = verified
	b.doc.RegSource = pick(b, regSources)

	prof := b.siteProfile(p, !multi)
	b.doc.Profile = prof
	if verified {
		b.doc.LoginIDs = &loginIDs{Emails: []string{p.email}, UnverifiedEmails: []string{}}
		b.doc.Emails = &emails{Verified: []string{p.email}, Unverified: []string{}}
	} else {
		b.doc.LoginIDs = &loginIDs{Emails: []string{}, UnverifiedEmails: []string{p.email}}
		b.doc.Emails = &emails{Verified: []string{}, Unverified: []string{p.email}}
	}

	site := identity{
		Provider:                   "site",
		ProviderUID:                b.uid,
		AllowsLogin:                true,
		Email:                      p.email,
		FirstName:                  prof.FirstName,
		LastName:                   prof.LastName,
		Nickname:                   prof.Nickname,
		Gender:                     prof.Gender,
		Country:                    prof.Country,
		City:                       prof.City,
		Locale:                     prof.Locale,
		OldestDataUpdated:          isoMillis(t.oldest),
		OldestDataUpdatedTimestamp: t.oldest,
	}
	ids := []identity{site}
	kind := KindSite
	if multi {
		kind = KindMulti
		ids = append(ids, b.linkedSocials(p, t)...)
		b.mergeSocialIntoProfile(prof, ids[1:])
		// A provider's address counts as verified, unless it is the site
		// address the user never confirmed.
		for _, id := range ids[1:] {
			if id.Email != "" && !slices.Contains(b.doc.Emails.Verified, id.Email) &&
				!slices.Contains(b.doc.Emails.Unverified, id.Email) {
				b.doc.Emails.Verified = append(b.doc.Emails.Verified, id.Email)
			}
		}
	}
	// The login identity is the one the user last logged in with.
	login := 0
	if multi && b.chance(0.4) {
		login = 1 + b.rng.IntN(len(ids)-1)
	}
	b.finishIdentities(ids, login, t)

	b.doc.Data = b.data()
	b.doc.Subscriptions = b.subscriptions(t)
	b.doc.Preferences = b.preferences(t, prof.Locale)

	plain := b.plainPassword()
	pwCreated := t.registered
	if b.chance(0.3) { // a password reset since registration
		pwCreated = b.between(t.registered, t.lastLogin)
	}
	pw, verifiable := b.password(plain, pwCreated)
	b.doc.Password = pw
	acc := Account{
		UID:        b.uid,
		Kind:       kind,
		Email:      p.email,
		Algorithm:  pw.HashSettings.Algorithm,
		Verifiable: verifiable,
	}
	if verifiable {
		acc.Password = plain
	}
	return acc
}

// social builds a social-only user: no password, no site identity.
func (b *builder) social() Account {
	p := b.person(b.chance(0.75))
	provider := b.provider()
	t := b.timeline(p.email != "")
	b.setTimes(t)
	b.doc.IsActive = ptr(!b.chance(0.02))
	b.doc.IsRegistered = true
	b.doc.IsVerified = p.email != ""
	b.doc.RegSource = pick(b, regSources)

	id := b.socialIdentity(provider, p, p.email, t.created)
	b.finishIdentities([]identity{id}, 0, t)
	id = b.doc.Identities[0]

	// Gigya builds the profile from the provider's data when there is no
	// site data to take precedence.
	prof := &profile{
		Email:        id.Email,
		FirstName:    id.FirstName,
		LastName:     id.LastName,
		Nickname:     id.Nickname,
		Gender:       id.Gender,
		Country:      id.Country,
		PhotoURL:     id.PhotoURL,
		ThumbnailURL: id.ThumbnailURL,
		Locale:       id.Locale,
	}
	if provider == "facebook" && b.chance(0.5) {
		b.birthday(prof)
	}
	b.doc.Profile = prof
	b.doc.LoginIDs = &loginIDs{Emails: []string{}, UnverifiedEmails: []string{}}
	b.doc.Emails = &emails{Verified: []string{}, Unverified: []string{}}
	if id.Email != "" {
		b.doc.Emails.Verified = append(b.doc.Emails.Verified, id.Email)
	}
	b.doc.Data = b.data()
	b.doc.Subscriptions = b.subscriptions(t)
	b.doc.Preferences = b.preferences(t, prof.Locale)
	return Account{UID: b.uid, Kind: KindSocial, Email: prof.Email}
}

// lite builds a lite account: an email that subscribed to something,
// with no registration behind it.
func (b *builder) lite() Account {
	p := b.person(true)
	t := b.timeline(false)
	b.doc.Created = isoMillis(t.created)
	b.doc.CreatedTimestamp = t.created
	b.doc.LastUpdated = isoMillis(t.updated)
	b.doc.LastUpdatedTimestamp = t.updated
	b.doc.OldestDataUpdated = isoMillis(t.created)
	b.doc.OldestDataUpdatedTimestamp = t.created
	b.doc.HasLiteAccount = ptr(true)
	b.doc.HasFullAccount = ptr(false)
	b.doc.Profile = &profile{Email: p.email}
	if b.chance(0.3) {
		b.doc.Profile.Locale = p.country.locale
	}
	b.doc.Subscriptions = b.subscriptions(t)
	return Account{UID: b.uid, Kind: KindLite, Email: p.email}
}

func (b *builder) setTimes(t timeline) {
	d := &b.doc
	d.Created, d.CreatedTimestamp = isoMillis(t.created), t.created
	d.LastUpdated, d.LastUpdatedTimestamp = isoMillis(t.updated), t.updated
	d.LastLogin, d.LastLoginTimestamp = isoMillis(t.lastLogin), t.lastLogin
	d.OldestDataUpdated, d.OldestDataUpdatedTimestamp = isoMillis(t.oldest), t.oldest
	d.Registered, d.RegisteredTimestamp = isoMillis(t.registered), t.registered
	if t.verified != 0 {
		d.Verified, d.VerifiedTimestamp = isoMillis(t.verified), t.verified
	}
}

func (b *builder) timeline(verified bool) timeline {
	var t timeline
	t.created = b.between(firstCreated, lastCreated)
	if b.chance(0.1) { // signed up once and never came back
		t.updated = min(t.created+b.rng.Int64N(3_600_000), horizon)
	} else {
		t.updated = b.between(t.created, horizon)
	}
	t.registered = min(t.created+b.between(200, 90_000), t.updated)
	if b.chance(0.5) {
		t.lastLogin = t.updated
	} else {
		t.lastLogin = b.between(t.registered, t.updated)
	}
	if verified {
		t.verified = min(t.registered+b.between(30_000, 3*86_400_000), t.updated)
	}
	t.oldest = t.created
	if b.chance(0.2) {
		t.oldest = b.between(t.created, t.updated)
	}
	return t
}

func (b *builder) person(withEmail bool) person {
	p := person{
		first:   pick(b, firstNames),
		country: pick(b, countries),
	}
	if b.chance(0.88) {
		p.last = pick(b, lastNames)
	}
	p.city = pick(b, p.country.cities)
	if !withEmail {
		return p
	}
	local := p.first.slug
	if p.last.slug != "" {
		switch b.rng.IntN(4) {
		case 0:
			local = p.first.slug + "." + p.last.slug
		case 1:
			local = p.first.slug + p.last.slug
		case 2:
			local = p.first.slug[:1] + "." + p.last.slug
		default:
			local = p.first.slug + "_" + p.last.slug
		}
	}
	// The token after the last dot is unique per account and contains no
	// dot, so no two accounts can end up with the same address.
	p.email = local + "." + b.token + "@" + pick(b, emailDomains)
	return p
}

// siteProfile is what the user typed into the site's registration forms.
// withAddress is false for multi users, whose country comes from a social
// network instead.
func (b *builder) siteProfile(p person, withAddress bool) *profile {
	prof := &profile{Email: p.email, FirstName: p.first.text}
	if p.last.text != "" {
		prof.LastName = p.last.text
	}
	prof.Nickname = b.nickname(p)
	if b.chance(0.8) {
		prof.Gender = p.first.gender
	}
	if b.chance(0.6) {
		b.birthday(prof)
	}
	if withAddress && b.chance(0.7) {
		prof.Country = p.country.code
		prof.City = p.city.name
		prof.State = p.city.state
		if b.chance(0.8) {
			prof.Zip = p.city.zip
		}
	}
	switch r := b.rng.IntN(10); {
	case r < 4:
		ph := []phone{{Type: "mobile", Number: b.phoneNumber(p.country)}}
		if b.chance(0.3) {
			ph = append(ph, phone{Type: pick(b, []string{"home", "work"}), Number: b.phoneNumber(p.country)})
		}
		prof.Phones = ph
	case r < 5:
		prof.Phones = []phone{}
	}
	if b.chance(0.75) {
		prof.Locale = p.country.locale
	}
	if b.chance(0.05) {
		prof.PhotoURL = "https://cdn.example.com/avatars/" + b.token + ".jpg"
	}
	return prof
}

func (b *builder) nickname(p person) string {
	switch r := b.rng.IntN(20); {
	case r < 7:
		return p.first.text
	case r < 12 && p.last.text != "":
		return p.first.text + " " + string([]rune(p.last.text)[:1]) + "."
	case r < 15:
		return fmt.Sprintf("%s%d", p.first.slug, b.rng.IntN(1000))
	case r < 16:
		return p.first.text + " " + pick(b, nicknameEmoji)
	default:
		return "" // many users never set one
	}
}

func (b *builder) birthday(prof *profile) {
	prof.BirthYear = 1940 + b.rng.IntN(68)
	prof.BirthMonth = 1 + b.rng.IntN(12)
	prof.BirthDay = 1 + b.rng.IntN(28)
}

func (b *builder) phoneNumber(c country) string {
	return c.dial + b.text("0123456789", c.digits)
}

func (b *builder) provider() string {
	total := 0
	for _, p := range socialProviders {
		total += p.weight
	}
	n := b.rng.IntN(total)
	for _, p := range socialProviders {
		if n < p.weight {
			return p.name
		}
		n -= p.weight
	}
	return socialProviders[0].name
}

// linkedSocials returns 1–3 distinct social identities linked after the
// site registration.
func (b *builder) linkedSocials(p person, t timeline) []identity {
	n := 1 + b.rng.IntN(3)
	var ids []identity
	for len(ids) < n {
		prov := b.provider()
		if slices.ContainsFunc(ids, func(id identity) bool { return id.Provider == prov }) {
			continue
		}
		email := p.email
		if b.chance(0.3) { // a personal address used for the social network
			local, domain, _ := strings.Cut(p.email, "@")
			email = local + "+" + prov + "@" + domain
		}
		ids = append(ids, b.socialIdentity(prov, p, email, b.between(t.registered, t.lastLogin)))
	}
	return ids
}

// socialIdentity is what a provider returns about the user. email "" means
// the user did not grant the email permission.
func (b *builder) socialIdentity(provider string, p person, email string, linked int64) identity {
	id := identity{
		Provider:                   provider,
		AllowsLogin:                true,
		Email:                      email,
		FirstName:                  p.first.text,
		LastName:                   p.last.text,
		OldestDataUpdated:          isoMillis(linked),
		OldestDataUpdatedTimestamp: linked,
	}
	switch provider {
	case "facebook":
		id.ProviderUID = "10" + b.text("0123456789", 13+b.rng.IntN(3))
		id.PhotoURL = "https://graph.facebook.com/" + id.ProviderUID + "/picture?type=large"
		id.ThumbnailURL = "https://graph.facebook.com/" + id.ProviderUID + "/picture?type=square"
		id.Gender = p.first.gender
		id.Country = p.country.code
		id.Locale = p.country.locale
	case "google":
		id.ProviderUID = "1" + b.text("0123456789", 20)
		id.PhotoURL = "https://lh3.googleusercontent.com/a/" + b.text(alnumChars, 22) + "=s96-c"
		id.Locale = p.country.locale
	case "apple":
		// Apple shares no photo or country and often hides the address.
		id.ProviderUID = "00" + b.text("0123456789", 4) + "." + b.text("0123456789abcdef", 32) + "." + b.text("0123456789", 4)
		if email != "" && b.chance(0.5) {
			id.Email = b.text("abcdefghijklmnopqrstuvwxyz0123456789", 10) + b.token + "@privaterelay.appleid.com"
		}
	case "linkedin":
		id.ProviderUID = b.text(alnumChars, 10)
		id.PhotoURL = "https://media.licdn.com/dms/image/" + b.text(alnumChars, 16) + "/profile-displayphoto-shrink_200_200/0/"
		id.Country = p.country.code
	}
	if id.FirstName != "" {
		id.Nickname = strings.TrimSpace(id.FirstName + " " + id.LastName)
	}
	return id
}

// finishIdentities marks ids[login] as the login identity and sets the
// per-identity login times, then stores ids in the document.
func (b *builder) finishIdentities(ids []identity, login int, t timeline) {
	providers := make([]string, 0, len(ids))
	for i := range ids {
		id := &ids[i]
		providers = append(providers, id.Provider)
		if i == login {
			id.IsLoginIdentity = true
			if id.Provider != "site" {
				id.LastLoginTime = t.lastLogin / 1000
			}
			continue
		}
		id.IsExpiredSession = b.chance(0.7)
		if id.Provider != "site" {
			id.LastLoginTime = b.between(id.OldestDataUpdatedTimestamp, t.lastLogin) / 1000
		}
	}
	slices.Sort(providers)
	b.doc.LoginProvider = ids[login].Provider
	b.doc.SocialProviders = strings.Join(providers, ",")
	b.doc.Identities = ids
}

// mergeSocialIntoProfile copies the country and photo a social network
// knows into the profile, as Gigya does when the site data lacks them; it
// does so only for half of the users so that mappings must also look into
// identities[] to find these values.
func (b *builder) mergeSocialIntoProfile(prof *profile, socials []identity) {
	if !b.chance(0.5) {
		return
	}
	for _, id := range socials {
		if prof.Country == "" && id.Country != "" {
			prof.Country = id.Country
		}
		if prof.PhotoURL == "" && id.PhotoURL != "" {
			prof.PhotoURL = id.PhotoURL
			prof.ThumbnailURL = id.ThumbnailURL
		}
	}
}

func (b *builder) data() map[string]any {
	if b.chance(0.15) {
		return nil
	}
	d := map[string]any{}
	if b.chance(0.7) {
		d["loyaltyId"] = fmt.Sprintf("L-%06d", b.rng.IntN(1_000_000))
	}
	if b.chance(0.8) {
		d["terms"] = b.chance(0.9)
	}
	if b.chance(0.5) {
		d["newsletterSource"] = pick(b, newsletterSources)
	}
	if b.chance(0.2) {
		var picked []string
		for _, i := range b.rng.Perm(len(interests))[:1+b.rng.IntN(3)] {
			picked = append(picked, interests[i])
		}
		d["interests"] = picked
	}
	if b.chance(0.15) {
		d["marketing"] = map[string]any{"email": b.chance(0.6), "sms": b.chance(0.3)}
	}
	if b.chance(0.1) {
		d["favoriteStoreId"] = 100 + b.rng.IntN(900)
	}
	return d
}

func (b *builder) subscriptions(t timeline) map[string]any {
	if !b.chance(0.6) {
		return nil
	}
	subs := map[string]any{}
	for _, id := range []string{"newsletter", "offers"} {
		if id == "offers" && !b.chance(0.4) {
			continue
		}
		changed := b.between(t.created, t.updated)
		sent := min(changed+b.between(200, 5_000), t.updated)
		status := pick(b, []string{"Confirmed", "Confirmed", "Pending", "NotConfirmed"})
		doi := map[string]any{
			"status":                    status,
			"emailSentTime":             isoMillis(sent),
			"doiConditionallyConfirmed": false,
		}
		if status == "Confirmed" {
			doi["confirmTime"] = isoMillis(b.between(sent, t.updated))
		}
		tags := []string{}
		if b.chance(0.3) {
			tags = append(tags, pick(b, []string{"weekly", "deals", "product-news"}))
		}
		subs[id] = map[string]any{"email": map[string]any{
			"isSubscribed":                 status != "NotConfirmed" && b.chance(0.85),
			"tags":                         tags,
			"lastUpdatedSubscriptionState": isoMillis(changed),
			"doubleOptIn":                  doi,
		}}
	}
	return subs
}

func (b *builder) preferences(t timeline, locale string) map[string]any {
	if !b.chance(0.7) {
		return nil
	}
	lang := "en"
	if locale != "" {
		lang, _, _ = strings.Cut(locale, "_")
	}
	consent := func(granted bool, at int64) map[string]any {
		return map[string]any{
			"isConsentGranted":    granted,
			"docVersion":          1 + b.rng.IntN(3),
			"lang":                lang,
			"lastConsentModified": isoMillis(at),
			"actionTimestamp":     isoMillis(at),
		}
	}
	prefs := map[string]any{
		"terms": map[string]any{"tos": consent(true, t.registered)},
	}
	if b.chance(0.5) {
		prefs["privacy"] = map[string]any{"policy": consent(true, t.registered)}
	}
	if b.chance(0.3) {
		prefs["marketing"] = map[string]any{"email": consent(b.chance(0.6), b.between(t.registered, t.updated))}
	}
	return prefs
}

// plainPassword makes a password like people choose them, sometimes with
// non-ASCII letters, spaces or "$" (which must not be mistaken for a format
// placeholder). It stays under bcrypt's 72-byte limit.
func (b *builder) plainPassword() string {
	var pw string
	if b.chance(0.6) {
		pw = pick(b, passwordWords) + b.text("0123456789", 1+b.rng.IntN(4)) + b.text(passwordSymbols, b.rng.IntN(2))
		if b.chance(0.3) && pw[0] >= 'a' && pw[0] <= 'z' {
			pw = strings.ToUpper(pw[:1]) + pw[1:]
		}
	} else {
		pw = b.text(passwordChars, 10+b.rng.IntN(11))
	}
	return pw
}

func (b *builder) chance(p float64) bool { return b.rng.Float64() < p }

// between returns a uniform ms value in [lo, hi], or lo when the range is empty.
func (b *builder) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + b.rng.Int64N(hi-lo+1)
}

func (b *builder) bytes(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(b.rng.Uint32())
	}
	return p
}

// text returns n random bytes of the ASCII alphabet.
func (b *builder) text(alphabet string, n int) string {
	p := make([]byte, n)
	for i := range p {
		p[i] = alphabet[b.rng.IntN(len(alphabet))]
	}
	return string(p)
}

func pick[T any](b *builder, s []T) T { return s[b.rng.IntN(len(s))] }
