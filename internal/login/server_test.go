package login

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCert writes a certificate for 127.0.0.1 signed by ca (self-signed
// when ca is nil, then also a CA) and returns the PEM files.
type testCert struct {
	cert              *x509.Certificate
	key               *ecdsa.PrivateKey
	certFile, keyFile string
}

func newTestCert(t *testing.T, dir, name string, ca *testCert, client bool) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	parent, signer := tmpl, key
	if ca == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.ExtKeyUsage = true, true, nil
	} else {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCert{key: key, certFile: filepath.Join(dir, name+".crt"), keyFile: filepath.Join(dir, name+".key")}
	if c.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTLSAndMutualTLS: the endpoints are served over TLS; with
// client_ca_file, a caller without a certificate that CA signed cannot
// even reach the secret check.
func TestTLSAndMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCert(t, dir, "ca", nil, false)
	server := newTestCert(t, dir, "server", ca, false)
	client := newTestCert(t, dir, "client", ca, true)
	other := newTestCert(t, dir, "other-ca", nil, false)
	stranger := newTestCert(t, dir, "stranger", other, true)

	f := newFixture(t, fixtureOptions{})
	st := f.svc.settings
	st.PlainHTTP = false
	st.Listen = "127.0.0.1:0"
	st.TLS.CertFile, st.TLS.KeyFile, st.TLS.ClientCAFile = server.certFile, server.keyFile, ca.certFile
	ln, err := Listen(st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	get := func(certs []tls.Certificate) (*http.Response, error) {
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}}}
		return hc.Get("https://" + ln.Addr().String() + "/healthz")
	}
	pair := func(c *testCert) []tls.Certificate {
		kp, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{kp}
	}
	resp, err := get(pair(client))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("with the client certificate: %v %v", resp, err)
	}
	resp.Body.Close()
	for name, certs := range map[string][]tls.Certificate{"none": nil, "another CA's": pair(stranger)} {
		if resp, err := get(certs); err == nil {
			resp.Body.Close()
			t.Errorf("a client with %s certificate was served", name)
		}
	}
	// Plain HTTP on the TLS port is refused.
	hc := &http.Client{Timeout: 5 * time.Second}
	if resp, err := hc.Get("http://" + ln.Addr().String() + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Error("plain HTTP was served on the TLS listener")
	} else if err == nil {
		resp.Body.Close()
	}

	st.TLS.ClientCAFile = filepath.Join(dir, "missing.pem")
	if _, err := TLSConfig(st); err == nil || !strings.Contains(err.Error(), "login.tls.client_ca_file") {
		t.Errorf("a missing client CA file: %v", err)
	}
}
