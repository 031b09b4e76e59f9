package gigyasim

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Signed requests (docs/apis/gigya.md, "Signed requests").
const (
	// signedMaxSkew is how far a signed request's timestamp may be from the
	// simulator's clock, either way. Gigya documents no window; see the
	// simulator choices in doc.go.
	signedMaxSkew = 3 * time.Minute
	// millisThreshold separates timestamps in milliseconds (node-gigya sends
	// Date.now()) from timestamps in seconds (SAP's SDKs send time()): 1e11
	// seconds is in the year 5138, 1e11 milliseconds in 1973.
	millisThreshold = 100_000_000_000
)

// DefaultDataCenter is the data-center domain that signed requests are
// assumed to have been signed for when Options.DataCenter is empty.
const DefaultDataCenter = "us1.gigya.com"

// checkSigned verifies a request that carries sig: timestamp within
// signedMaxSkew, and sig = base64(HMAC-SHA1(base64-decoded secret, base
// string)), the secret being the userKey's (or, without a userKey, the
// partner secret).
func (s *Sim) checkSigned(r *http.Request, form url.Values) *gerr {
	secret, who := s.opts.Secret, "the partner secret"
	if uk := form.Get("userKey"); uk != "" {
		app, ok := s.opts.Apps[uk]
		if !ok {
			return newErr(codeUnauthorizedUser, "unknown userKey "+uk)
		}
		secret, who = app.Secret, "the secret of userKey "+uk
	}
	if secret == "" {
		return newErr(codeInvalidSignature, "cannot verify sig: "+who+" is not set")
	}
	ts := form.Get("timestamp")
	if ts == "" {
		return newErr(codeMissingParameter, "timestamp (a signed request needs timestamp, nonce and sig)")
	}
	if form.Get("nonce") == "" {
		return newErr(codeMissingParameter, "nonce (a signed request needs timestamp, nonce and sig)")
	}
	at, err := parseTimestamp(ts)
	if err != nil {
		return newErr(codeInvalidParameter, "timestamp: "+err.Error())
	}
	if d := s.now().Sub(at); d > signedMaxSkew || d < -signedMaxSkew {
		return newErr(codeRequestExpired, "timestamp is more than 3 minutes away from the server's clock")
	}
	key, err := decodeBase64(secret)
	if err != nil {
		return newErr(codeInvalidSignature, "cannot verify sig: "+who+" is not base64")
	}
	got, err := decodeBase64(form.Get("sig"))
	if err != nil {
		return newErr(codeInvalidSignature, "sig is not base64")
	}
	urls := s.signedURLs(r)
	params := normalizedParams(form)
	for _, u := range urls {
		if hmac.Equal(got, signature(key, baseString(r.Method, u, params))) {
			return nil
		}
	}
	// The details name the URLs tried, never the base string: it holds the
	// request's parameters, passwords included.
	return newErr(codeInvalidSignature, "sig does not verify with "+who+" for "+strings.Join(urls, " or "))
}

// parseTimestamp reads a Unix time in seconds, or in milliseconds when it is
// above millisThreshold.
func parseTimestamp(ts string) (time.Time, error) {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, errors.New("not a Unix time")
	}
	if n >= millisThreshold {
		return time.UnixMilli(n), nil
	}
	return time.Unix(n, 0), nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not: Gigya
// hands out standard base64 secrets, and Node's Buffer (node-gigya) decodes
// either alphabet.
func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// signedURLs are the URLs a signature is checked against: the one of the
// data center the client believes it calls (an SDK pointed at the
// simulator still signs https://accounts.us1.gigya.com/accounts.search),
// and the URL the request actually reached, normalized.
func (s *Sim) signedURLs(r *http.Request) []string {
	method := path.Base(r.URL.Path)
	ns, _, _ := strings.Cut(method, ".")
	dc := "https://" + ns + "." + strings.ToLower(s.opts.DataCenter) + "/" + method
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	reached := scheme + "://" + normalizedHost(scheme, r.Host) + r.URL.EscapedPath()
	if reached == dc {
		return []string{dc}
	}
	return []string{dc, reached}
}

// normalizedHost lower-cases host and drops the scheme's default port.
func normalizedHost(scheme, host string) string {
	host = strings.ToLower(host)
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return h
	}
	return host
}

// normalizedParams is the parameter part of the base string: every form
// parameter but sig, sorted by name (then value), as name=value with the
// value percent-encoded and the name as is, joined by &.
func normalizedParams(form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		if k != "sig" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		vals := slices.Clone(form[k])
		slices.Sort(vals)
		for _, v := range vals {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(percentEncode(v))
		}
	}
	return b.String()
}

// baseString is METHOD&enc(url)&enc(params).
func baseString(method, u, params string) string {
	return strings.ToUpper(method) + "&" + percentEncode(u) + "&" + percentEncode(params)
}

func signature(key []byte, base string) []byte {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(base))
	return m.Sum(nil)
}

// percentEncode escapes every byte but the RFC 3986 unreserved characters
// (A-Z a-z 0-9 - . _ ~), with upper-case hex digits.
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
