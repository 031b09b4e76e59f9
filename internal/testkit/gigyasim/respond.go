package gigyasim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/segmentio/encoding/json"
)

// Gigya error codes the simulator sends (docs/apis/gigya.md, "Error codes",
// "Login answers").
const (
	codePendingRegistration = 206001
	codePendingVerification = 206002
	codeInvalidRequest      = 400001
	codeMissingParameter    = 400002
	codeInvalidParameter    = 400006
	codeInvalidAPIKey       = 400093
	codeRequestExpired      = 403002
	codeInvalidSignature    = 403003
	codeUnauthorizedUser    = 403005
	codeAccountDisabled     = 403041
	codeInvalidLoginID      = 403042
	codeRateLimited         = 403048
	codeLockedOut           = 403120
	codeGeneralServerError  = 500001
	codeTimeout             = 504001
)

// errorMessages are the errorMessage texts, after Gigya's response-code table
// where it has one (the codes and names of docs/apis/gigya.md, "Error
// codes").
var errorMessages = map[int]string{
	codePendingRegistration: "Account Pending Registration",
	codePendingVerification: "Account Pending Verification",
	codeInvalidRequest:      "Invalid request format",
	codeMissingParameter:    "Missing required parameter",
	codeInvalidParameter:    "Invalid parameter value",
	codeInvalidAPIKey:       "Invalid ApiKey parameter",
	codeRequestExpired:      "Request has expired",
	codeInvalidSignature:    "Invalid request signature",
	codeUnauthorizedUser:    "Unauthorized user",
	codeAccountDisabled:     "Account Disabled",
	codeInvalidLoginID:      "Invalid LoginID",
	codeRateLimited:         "Api rate limit exceeded",
	codeLockedOut:           "Account temporarily locked out",
	codeGeneralServerError:  "General Server Error",
	codeTimeout:             "Timeout",
}

// gerr is a Gigya error response to send.
type gerr struct {
	code    int
	details string
	// extra are further top-level fields (regToken, lockedUntil, ...).
	extra map[string]any
}

func newErr(code int, details string) *gerr { return &gerr{code: code, details: details} }

// statusOf is the HTTP-like statusCode of a Gigya errorCode: its first
// three digits (403048 → 403, 206001 → 206).
func statusOf(code int) int {
	if code == 0 {
		return http.StatusOK
	}
	return code / 1000
}

type envelope struct {
	CallID       string `json:"callId"`
	ErrorCode    int    `json:"errorCode"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	ErrorDetails string `json:"errorDetails,omitempty"`
	APIVersion   int    `json:"apiVersion"`
	StatusCode   int    `json:"statusCode"`
	StatusReason string `json:"statusReason"`
	Time         string `json:"time"`
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// envelopeJSON is the common part of every response, as a JSON object.
func (s *Sim) envelopeJSON(code int, details string) []byte {
	st := statusOf(code)
	env := envelope{
		CallID:       randomHex(16),
		ErrorCode:    code,
		APIVersion:   2,
		StatusCode:   st,
		StatusReason: http.StatusText(st),
		Time:         s.now().UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if code != 0 {
		env.ErrorMessage = errorMessages[code]
		env.ErrorDetails = details
	}
	b, err := json.Marshal(env)
	if err != nil {
		panic("gigyasim: marshal envelope: " + err.Error())
	}
	return b
}

// spliceObject appends the members of the JSON object obj to the JSON
// object body.
func spliceObject(body, obj []byte) []byte {
	obj = bytes.TrimSpace(obj)
	if len(obj) <= 2 {
		return body
	}
	body = append(body[:len(body)-1], ',')
	body = append(body, obj[1:]...)
	return body
}

func marshalExtra(extra map[string]any) []byte {
	if len(extra) == 0 {
		return nil
	}
	b, err := json.Marshal(extra)
	if err != nil {
		panic("gigyasim: marshal response fields: " + err.Error())
	}
	return b
}

// call is the state of one request.
type call struct {
	method string
	apiKey string
	// truncate: a Truncated fault fired; the body is cut in half.
	truncate bool
	// httpStatusCodes=true: the HTTP status mirrors statusCode.
	httpStatusCodes bool
	// timeoutMS is the timeout parameter (default 20000).
	timeoutMS int
}

// sendError writes a Gigya error response.
func (s *Sim) sendError(w http.ResponseWriter, c *call, e *gerr) {
	body := s.envelopeJSON(e.code, e.details)
	body = spliceObject(body, marshalExtra(e.extra))
	s.stats.error(e.code)
	s.write(w, c, statusOf(e.code), body)
}

// write sends body with HTTP status 200, or status when the caller asked
// for httpStatusCodes=true.
func (s *Sim) write(w http.ResponseWriter, c *call, status int, body []byte) {
	if c.truncate {
		body = body[:len(body)/2]
		s.stats.add(func(st *Stats) { st.TruncatedBodies++ })
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	code := http.StatusOK
	if c.httpStatusCodes {
		code = status
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
