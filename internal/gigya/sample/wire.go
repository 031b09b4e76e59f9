package sample

import "time"

// The types below are the wire shape of a Gigya account (docs/apis/gigya.md,
// "The account object"). They are structs rather than maps so that the field
// order of the JSON is fixed and reads like Gigya's own output; omitempty
// marks the fields that Gigya leaves out when they are unset, while flags
// such as isVerified are always present.

type accountDoc struct {
	UID                        string `json:"UID"`
	Created                    string `json:"created"`
	CreatedTimestamp           int64  `json:"createdTimestamp"`
	LastUpdated                string `json:"lastUpdated"`
	LastUpdatedTimestamp       int64  `json:"lastUpdatedTimestamp"`
	LastLogin                  string `json:"lastLogin,omitempty"`
	LastLoginTimestamp         int64  `json:"lastLoginTimestamp,omitempty"`
	OldestDataUpdated          string `json:"oldestDataUpdated"`
	OldestDataUpdatedTimestamp int64  `json:"oldestDataUpdatedTimestamp"`
	Registered                 string `json:"registered,omitempty"`
	RegisteredTimestamp        int64  `json:"registeredTimestamp,omitempty"`
	Verified                   string `json:"verified,omitempty"`
	VerifiedTimestamp          int64  `json:"verifiedTimestamp,omitempty"`
	// Pointers: lite accounts omit these, full accounts carry them even when false.
	IsActive        *bool          `json:"isActive,omitempty"`
	IsRegistered    bool           `json:"isRegistered"`
	IsVerified      bool           `json:"isVerified"`
	HasLiteAccount  *bool          `json:"hasLiteAccount,omitempty"`
	HasFullAccount  *bool          `json:"hasFullAccount,omitempty"`
	LoginProvider   string         `json:"loginProvider,omitempty"`
	SocialProviders string         `json:"socialProviders,omitempty"`
	RegSource       string         `json:"regSource,omitempty"`
	LoginIDs        *loginIDs      `json:"loginIDs,omitempty"`
	Emails          *emails        `json:"emails,omitempty"`
	Profile         *profile       `json:"profile,omitempty"`
	Data            map[string]any `json:"data,omitempty"`
	Identities      []identity     `json:"identities,omitempty"`
	Subscriptions   map[string]any `json:"subscriptions,omitempty"`
	Preferences     map[string]any `json:"preferences,omitempty"`
	Password        *passwordDoc   `json:"password,omitempty"`
}

// loginIDs and emails always carry both arrays, empty ones as [] (never
// null), because consumers index into them without a nil check.
type loginIDs struct {
	Emails           []string `json:"emails"`
	UnverifiedEmails []string `json:"unverifiedEmails"`
}

type emails struct {
	Verified   []string `json:"verified"`
	Unverified []string `json:"unverified"`
}

type profile struct {
	Email      string `json:"email,omitempty"`
	FirstName  string `json:"firstName,omitempty"`
	LastName   string `json:"lastName,omitempty"`
	Nickname   string `json:"nickname,omitempty"`
	Gender     string `json:"gender,omitempty"`
	BirthDay   int    `json:"birthDay,omitempty"`
	BirthMonth int    `json:"birthMonth,omitempty"`
	BirthYear  int    `json:"birthYear,omitempty"`
	Country    string `json:"country,omitempty"`
	State      string `json:"state,omitempty"`
	City       string `json:"city,omitempty"`
	Zip        string `json:"zip,omitempty"`
	// Phones is an interface so that "no phones" (nil, omitted) and an
	// empty list ([]phone{}, written as []) can both occur.
	Phones       any    `json:"phones,omitempty"`
	PhotoURL     string `json:"photoURL,omitempty"`
	ThumbnailURL string `json:"thumbnailURL,omitempty"`
	Locale       string `json:"locale,omitempty"`
}

type phone struct {
	Type   string `json:"type"`
	Number string `json:"number"`
}

type identity struct {
	Provider         string `json:"provider"`
	ProviderUID      string `json:"providerUID"`
	IsLoginIdentity  bool   `json:"isLoginIdentity"`
	AllowsLogin      bool   `json:"allowsLogin"`
	IsExpiredSession bool   `json:"isExpiredSession"`
	// LastLoginTime is in seconds, unlike the account's ms timestamps,
	// as in Gigya's identity object.
	LastLoginTime              int64  `json:"lastLoginTime,omitempty"`
	Email                      string `json:"email,omitempty"`
	FirstName                  string `json:"firstName,omitempty"`
	LastName                   string `json:"lastName,omitempty"`
	Nickname                   string `json:"nickname,omitempty"`
	Gender                     string `json:"gender,omitempty"`
	PhotoURL                   string `json:"photoURL,omitempty"`
	ThumbnailURL               string `json:"thumbnailURL,omitempty"`
	Country                    string `json:"country,omitempty"`
	City                       string `json:"city,omitempty"`
	Locale                     string `json:"locale,omitempty"`
	OldestDataUpdated          string `json:"oldestDataUpdated"`
	OldestDataUpdatedTimestamp int64  `json:"oldestDataUpdatedTimestamp"`
}

type passwordDoc struct {
	Hash         string       `json:"hash"`
	HashSettings hashSettings `json:"hashSettings"`
	Created      string       `json:"created"`
}

type hashSettings struct {
	Algorithm string `json:"algorithm"`
	Rounds    int    `json:"rounds,omitempty"`
	Salt      string `json:"salt,omitempty"`
	Format    string `json:"format,omitempty"`
	// URL is the remote hash service of the "custom" algorithm; the export
	// spelling follows the Node SDK's account type (docs/apis/gigya.md,
	// "Password object").
	URL string `json:"url,omitempty"`
}

// isoMillis renders a ms epoch the way Gigya does: UTC, always three
// fraction digits, "Z" suffix.
func isoMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

func ptr[T any](v T) *T { return &v }
