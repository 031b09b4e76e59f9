package auth0

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// User is an Auth0 user as the Management API returns it: the fields the
// sinks need to tell whose user it is.
type User struct {
	UserID     string     `json:"user_id"`
	Email      string     `json:"email"`
	Identities []Identity `json:"identities"`
}

// Identity is one identity of a [User].
type Identity struct {
	Connection string `json:"connection"`
	Provider   string `json:"provider"`
	UserID     string `json:"user_id"`
}

// Is reports whether u is the user an import created from a user whose
// user_id was userID: Auth0 keeps it as "auth0|<userID>", with an identity
// of provider auth0 whose user_id is userID.
func (u User) Is(userID string) bool {
	if userID == "" {
		return false
	}
	if u.UserID == userID || u.UserID == "auth0|"+userID {
		return true
	}
	for _, id := range u.Identities {
		if id.Provider == "auth0" && id.UserID == userID {
			return true
		}
	}
	return false
}

// UsersByEmail returns the users whose email is email, in every connection
// (GET /api/v2/users-by-email, scope read:users). Auth0 compares emails
// without regard to case.
func (c *Client) UsersByEmail(ctx context.Context, email string) ([]User, error) {
	op := "look up users by email"
	resp, err := c.do(ctx, request{
		op:     op,
		method: http.MethodGet,
		path:   "/api/v2/users-by-email",
		query:  url.Values{"email": {strings.ToLower(email)}},
	})
	if err != nil {
		return nil, err
	}
	var users []User
	if err := decode(op, resp.body, &users); err != nil {
		return nil, err
	}
	return users, nil
}
