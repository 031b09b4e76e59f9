package gigya

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
)

// AuthMode is how a client authenticates its server-to-server calls
// (docs/apis/gigya.md, "Authentication").
type AuthMode int

const (
	// AuthPartnerSecret sends apiKey and the partner secret as form fields.
	AuthPartnerSecret AuthMode = iota + 1
	// AuthAppKey sends apiKey, the application's userKey and its secret as
	// form fields.
	AuthAppKey
	// AuthBearerJWT sends apiKey as a form field and an RS256 JWT, signed
	// with the application's private key and naming its userKey as kid, in
	// the Authorization header. No secret goes over the wire.
	AuthBearerJWT
)

func (m AuthMode) String() string {
	switch m {
	case AuthPartnerSecret:
		return "partner-secret"
	case AuthAppKey:
		return "app-key"
	case AuthBearerJWT:
		return "bearer-jwt"
	}
	return "none"
}

// parsePrivateKey reads an unencrypted RSA private key in PEM, PKCS#8
// ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"). Its errors never quote the
// key material.
func parsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("private key: no PEM block found")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, errors.New("private key: encrypted PEM is not supported; decrypt it first")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("private key: invalid PKCS#1 RSA key")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("private key: invalid PKCS#8 key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("private key: the PKCS#8 key is not an RSA key, and RS256 needs one")
		}
		return rk, nil
	}
	return nil, fmt.Errorf("private key: PEM block type %q, want PRIVATE KEY or RSA PRIVATE KEY", block.Type)
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

type jwtPayload struct {
	Iat int64  `json:"iat"`
	Jti string `json:"jti"`
}

// signJWT returns a fresh bearer token: header {"alg":"RS256","typ":"JWT",
// "kid":userKey}, payload {"iat":now,"jti":<128-bit random hex>}. The client
// signs one per HTTP request (retries included) rather than caching: RSA
// signing costs about a millisecond, far below Gigya's search rate, and a
// fresh iat/jti pair never trips a replay or skew check.
func signJWT(key *rsa.PrivateKey, kid string, now time.Time) (string, error) {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", fmt.Errorf("jwt nonce: %w", err)
	}
	h, err := json.Marshal(jwtHeader{Alg: "RS256", Typ: "JWT", Kid: kid})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(jwtPayload{Iat: now.Unix(), Jti: hex.EncodeToString(nonce[:])})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	var b strings.Builder
	b.WriteString(enc.EncodeToString(h))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(p))
	sum := sha256.Sum256([]byte(b.String()))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", errors.New("jwt: RS256 signing failed")
	}
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(sig))
	return b.String(), nil
}
