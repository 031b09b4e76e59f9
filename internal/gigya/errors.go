package gigya

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// Error codes, as fault.Classify reports them for errors of this package.
// Gigya error codes without a name below are reported as "gigya_<errorCode>".
const (
	// CodeRateLimited: 403048 "Api rate limit exceeded" (transient).
	CodeRateLimited = "rate_limited"
	// CodeUnavailable: Gigya is down, slow or answered garbage: the
	// transient error codes, HTTP 5xx/429/408, network errors, timeouts and
	// truncated or non-JSON bodies (transient).
	CodeUnavailable = "gigya_unavailable"
	// CodeCursorExpired: the cursorId of a SearchNext is unknown or expired
	// (permanent for the call; the caller restarts its query).
	CodeCursorExpired = "cursor_expired"
	// CodeInvalidCredentials: accounts.login rejected the loginID/password.
	CodeInvalidCredentials = "invalid_credentials"
	// CodeAccountDisabled: accounts.login on an account with isActive=false.
	CodeAccountDisabled = "account_disabled"
	// CodeAccountLocked: accounts.login on a temporarily locked-out account.
	CodeAccountLocked = "account_locked"
	// CodeCaptchaRequired: accounts.login wants a CAPTCHA, which a server
	// cannot solve.
	CodeCaptchaRequired = "captcha_required"
	// CodePendingRegistration, CodePendingVerification,
	// CodePendingPasswordChange and CodePendingTFA: accounts.login verified
	// the password but the account is in a pending state (see [ErrPending]).
	CodePendingRegistration   = "pending_registration"
	CodePendingVerification   = "pending_verification"
	CodePendingPasswordChange = "pending_password_change"
	CodePendingTFA            = "pending_tfa"
	// CodeWrongDataCenter: 301001 that the client could not or may not
	// follow (a BaseURL override, a second 301001, an unexpected domain).
	CodeWrongDataCenter = "wrong_data_center"
	// CodeInvalidRequest: the caller asked for something the client refuses
	// to send (bad method name, query together with cursorId, empty cursor).
	CodeInvalidRequest = "gigya_invalid_request"
)

// Gigya error codes this package acts on (docs/apis/gigya.md, "Error codes"
// and "Login answers").
const (
	errDataPending        = 100001
	errInvalidDataCenter  = 301001
	errInvalidParameter   = 400006
	errCaptchaRequired    = 401020
	errWrongCaptcha       = 401021
	errOldPasswordUsed    = 401030
	errAccountDisabled    = 403041
	errInvalidLoginID     = 403042
	errLoginIDNotExist    = 403047
	errRateLimited        = 403048
	errPendingPwdChange   = 403100
	errPendingTFAVerify   = 403101
	errPendingTFARegister = 403102
	errLockedOut          = 403120
	errPendingReg         = 206001
	errPendingVerify      = 206002
)

// transientCodes are the Gigya error codes worth retrying (docs/apis/gigya.md,
// "Transient errors").
// 500028 "database error" is UNCONFIRMED as retryable; we retry it.
var transientCodes = map[int]bool{
	errDataPending: true, // data pending, "query again"
	409030:         true, // concurrent updates not allowed
	500001:         true, // general server error
	500026:         true, // network error
	500028:         true, // database error
	500034:         true, // error during backend operation
	504001:         true, // timeout (search timed out)
	504002:         true, // client timeout
	599999:         true, // missing error code
}

// successCodes are non-zero error codes that still mean success ("OK with
// errors", "accounts linked", "OK with error login identifier exists").
var successCodes = map[int]bool{200008: true, 200009: true, 200010: true}

var (
	// ErrCursorExpired matches a SearchNext whose cursorId Gigya no longer
	// knows (expired after 5 minutes of inactivity, or never valid).
	// Resending the same cursor cannot help, so the client does not retry
	// it; the caller restarts its query from its last committed watermark.
	//
	// The simulator answers 400006 "Invalid parameter value" naming cursorId
	// in errorDetails; that real Gigya does the same is UNCONFIRMED
	// (docs/apis/gigya.md, "Search cursors"). The client maps any 400006 on
	// a request that carried a cursorId to this error.
	ErrCursorExpired = errors.New("gigya: search cursor expired or invalid")

	// ErrInvalidCredentials matches an accounts.login rejected for a wrong
	// loginID or password (403042, 403047, and 401030 "old password used").
	// Gigya deliberately does not say which of the two was wrong.
	ErrInvalidCredentials = errors.New("gigya: invalid loginID or password")

	// ErrRateLimited matches 403048 "Api rate limit exceeded". Call retries
	// it itself; callers see it only once retries are exhausted.
	ErrRateLimited = errors.New("gigya: api rate limit exceeded")

	// ErrAccountDisabled matches an accounts.login on a disabled account
	// (403041, isActive=false).
	ErrAccountDisabled = errors.New("gigya: account disabled")

	// ErrAccountLocked matches an accounts.login on a temporarily locked-out
	// account (403120; the account's lockedUntil says until when).
	ErrAccountLocked = errors.New("gigya: account temporarily locked out")

	// ErrCaptchaRequired matches an accounts.login that needs a CAPTCHA
	// (401020, 401021): it cannot be completed server-side.
	ErrCaptchaRequired = errors.New("gigya: login requires a CAPTCHA")

	// ErrPending matches an accounts.login that verified the password but
	// found the account in a pending state: registration not finalized
	// (206001), email not verified (206002), password change required
	// (403100), or two-factor verification/registration pending
	// (403101/403102). Whether to migrate such a user is the caller's
	// policy; the APIError's ErrorCode says which state it is.
	ErrPending = errors.New("gigya: login verified the password; account pending")
)

// APIError is an error answer of the Gigya REST API (errorCode ≠ 0 in the
// body). Its text holds the method, codes, Gigya's message and details, and
// the callId for SAP support; never a credential or the request's
// parameters. Errors returned by [Client.Call] wrap it in a fault.Error, so
// errors.As finds it and errors.Is matches the sentinels of this package by
// error code.
type APIError struct {
	Method     string // e.g. "accounts.search"
	ErrorCode  int    // Gigya's errorCode, e.g. 403048
	StatusCode int    // Gigya's statusCode in the body, e.g. 403
	Message    string // errorMessage (or statusReason when there is none)
	Details    string // errorDetails
	CallID     string // callId, for SAP support
	// APIDomain is the data center Gigya names in a 301001 answer.
	APIDomain string

	// cursor records that the request carried a cursorId, which turns a
	// 400006 into ErrCursorExpired.
	cursor bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("gigya ")
	b.WriteString(e.Method)
	b.WriteString(": errorCode ")
	b.WriteString(strconv.Itoa(e.ErrorCode))
	if e.StatusCode != 0 {
		b.WriteString(" (statusCode ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Details != "" && e.Details != e.Message {
		b.WriteString(": ")
		b.WriteString(e.Details)
	}
	if e.APIDomain != "" {
		b.WriteString("; apiDomain ")
		b.WriteString(e.APIDomain)
	}
	if e.CallID != "" {
		b.WriteString("; callId ")
		b.WriteString(e.CallID)
	}
	return b.String()
}

// Is matches the sentinel errors of this package by error code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrRateLimited:
		return e.ErrorCode == errRateLimited
	case ErrCursorExpired:
		return e.cursor && e.ErrorCode == errInvalidParameter
	case ErrInvalidCredentials:
		return e.ErrorCode == errInvalidLoginID || e.ErrorCode == errLoginIDNotExist || e.ErrorCode == errOldPasswordUsed
	case ErrAccountDisabled:
		return e.ErrorCode == errAccountDisabled
	case ErrAccountLocked:
		return e.ErrorCode == errLockedOut
	case ErrCaptchaRequired:
		return e.ErrorCode == errCaptchaRequired || e.ErrorCode == errWrongCaptcha
	case ErrPending:
		switch e.ErrorCode {
		case errPendingReg, errPendingVerify, errPendingPwdChange, errPendingTFAVerify, errPendingTFARegister:
			return true
		}
	}
	return false
}

// faultCode is the fault code of an API error.
func (e *APIError) faultCode() string {
	switch {
	case e.ErrorCode == errRateLimited:
		return CodeRateLimited
	case transientCodes[e.ErrorCode]:
		return CodeUnavailable
	case e.ErrorCode == errInvalidDataCenter:
		return CodeWrongDataCenter
	case errors.Is(e, ErrCursorExpired):
		return CodeCursorExpired
	case errors.Is(e, ErrInvalidCredentials):
		return CodeInvalidCredentials
	case errors.Is(e, ErrAccountDisabled):
		return CodeAccountDisabled
	case errors.Is(e, ErrAccountLocked):
		return CodeAccountLocked
	case errors.Is(e, ErrCaptchaRequired):
		return CodeCaptchaRequired
	case e.ErrorCode == errPendingReg:
		return CodePendingRegistration
	case e.ErrorCode == errPendingVerify:
		return CodePendingVerification
	case e.ErrorCode == errPendingPwdChange:
		return CodePendingPasswordChange
	case e.ErrorCode == errPendingTFAVerify, e.ErrorCode == errPendingTFARegister:
		return CodePendingTFA
	}
	return "gigya_" + strconv.Itoa(e.ErrorCode)
}

// classify marks an API error transient or permanent (see the package
// overview in client.go for the table).
func classify(e *APIError) error {
	code := e.faultCode()
	if code == CodeRateLimited || code == CodeUnavailable {
		return fault.Transient(code, e)
	}
	return fault.Permanent(code, e)
}

// PasswordVerified reports whether err is an accounts.login answer that
// nevertheless proves the password right: one of the pending states of
// [ErrPending].
func PasswordVerified(err error) bool { return errors.Is(err, ErrPending) }
