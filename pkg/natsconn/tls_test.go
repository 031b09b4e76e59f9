package natsconn_test

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
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/natsconn"
	"github.com/gigya-migrate/gigya-migrate/pkg/natstest"
	"github.com/nats-io/nats-server/v2/server"
)

type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

func issue(t *testing.T, name string, parent *keyPair, isCA bool, usage x509.ExtKeyUsage) *keyPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	if !isCA {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &keyPair{cert: cert, key: key, der: der}
}

func (k *keyPair) write(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	kb, _ := x509.MarshalECPrivateKey(k.key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// Mutual TLS: the client verifies the server with the configured CA and
// presents its own certificate, which the server requires.
func TestConnectWithMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := issue(t, "test-ca", nil, true, 0)
	caFile, _ := ca.write(t, dir, "ca")
	srvCert, srvKey := issue(t, "server", ca, false, x509.ExtKeyUsageServerAuth).write(t, dir, "server")
	cliCert, cliKey := issue(t, "client", ca, false, x509.ExtKeyUsageClientAuth).write(t, dir, "client")

	s := natstest.StartWith(t, func(o *server.Options) {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: srvCert, KeyFile: srvKey, CaFile: caFile, Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		o.TLSConfig, o.TLS, o.TLSVerify, o.TLSTimeout = tc, true, true, 2
	})
	cfg := natsconn.Default()
	cfg.URLs = []string{s.ClientURL()}
	cfg.ConnectRetry = 0
	cfg.TLS.CAFile = caFile
	if _, err := natsconn.Connect(context.Background(), cfg, "t", discard); err == nil {
		t.Fatal("a server requiring a client certificate must refuse a client without one")
	}
	cfg.TLS.CertFile, cfg.TLS.KeyFile = cliCert, cliKey
	nc, err := natsconn.Connect(context.Background(), cfg, "t", discard)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if state, err := nc.TLSConnectionState(); err != nil || state.Version < tls.VersionTLS12 {
		t.Fatalf("not a TLS connection: %v", err)
	}
}

func TestConnectWithToken(t *testing.T) {
	s := natstest.StartWith(t, func(o *server.Options) { o.Authorization = "s3cret-token" })
	cfg := natsconn.Default()
	cfg.URLs = []string{s.ClientURL()}
	cfg.ConnectRetry = 0
	cfg.Token = "s3cret-token"
	nc, err := natsconn.Connect(context.Background(), cfg, "t", discard)
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}
