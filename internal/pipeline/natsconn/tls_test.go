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
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/natsconn"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
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

// tlsServerFiles issues a CA and a server certificate for 127.0.0.1 into a
// temporary directory and returns the CA file and a server TLS config
// (server authentication only: clients present no certificate).
func tlsServerFiles(t *testing.T) (caFile string, serverTLS *tls.Config) {
	t.Helper()
	dir := t.TempDir()
	ca := issue(t, "test-ca", nil, true, 0)
	caFile, _ = ca.write(t, dir, "ca")
	srvCert, srvKey := issue(t, "server", ca, false, x509.ExtKeyUsageServerAuth).write(t, dir, "server")
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: srvCert, KeyFile: srvKey})
	if err != nil {
		t.Fatal(err)
	}
	return caFile, tc
}

// requireTLS makes o a TLS-only server with serverTLS.
func requireTLS(o *server.Options, serverTLS *tls.Config) {
	o.TLSConfig, o.TLS, o.TLSTimeout = serverTLS, true, 2
}

// refused connects with cfg, which must fail without retrying (a wrong
// password or certificate does not fix itself: the default 20 s of
// connect_retry must not be spent on it), with an error that contains every
// want (case-insensitive) and none of the secrets. Logs go to logs.
func refused(t *testing.T, cfg natsconn.Config, logs *syncBuf, secrets []string, want ...string) error {
	t.Helper()
	start := time.Now()
	nc, err := natsconn.Connect(context.Background(), cfg, "t", slog.New(slog.NewTextHandler(logs, nil)))
	if err == nil {
		nc.Close()
		t.Fatal("connected: want a refusal")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the refusal took %v: a permanent error was retried (connect_retry %v)", d, cfg.ConnectRetry)
	}
	msg := strings.ToLower(err.Error())
	for _, w := range want {
		if !strings.Contains(msg, strings.ToLower(w)) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) || strings.Contains(logs.String(), s) {
			t.Errorf("a secret is in the error or the logs: %v\n%s", err, logs.String())
		}
	}
	return err
}

// TLS towards a server that requires it, with user/password inside the
// encrypted connection: the right settings connect (and JetStream works);
// a wrong password, an unknown CA, no CA at all, a host name the
// certificate does not cover and a CA file that is not one each fail at
// once with an error that says why and never repeats the password.
func TestConnectTLSWithUserPassword(t *testing.T) {
	const user, password = "etl", "tls-pass-9c41e7"
	caFile, serverTLS := tlsServerFiles(t)
	s := natstest.StartWith(t, func(o *server.Options) {
		requireTLS(o, serverTLS)
		o.Username, o.Password = user, password
	})
	port := s.Addr().(*net.TCPAddr).Port
	good := func() natsconn.Config {
		c := natsconn.Default() // connect_retry 20s: refusals must still be immediate
		c.URLs = []string{s.ClientURL()}
		c.User, c.Password = user, password
		c.TLS.CAFile = caFile
		return c
	}

	var logs syncBuf
	nc, err := natsconn.Connect(context.Background(), good(), "t", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	state, err := nc.TLSConnectionState()
	if err != nil || state.Version < tls.VersionTLS12 || len(state.PeerCertificates) == 0 || state.PeerCertificates[0].Subject.CommonName != "server" {
		t.Fatalf("not a verified TLS connection: %+v %v", state, err)
	}
	if _, err := natsconn.JetStream(context.Background(), nc); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	// tls:// in the URL works too.
	c := good()
	c.URLs = []string{fmt.Sprintf("tls://127.0.0.1:%d", port)}
	if nc, err := natsconn.Connect(context.Background(), c, "t", discard); err != nil {
		t.Fatalf("tls:// URL: %v", err)
	} else {
		nc.Close()
	}
	if strings.Contains(logs.String(), password) {
		t.Fatalf("the password is in the logs:\n%s", logs.String())
	}

	const wrong = "wrong-pass-40d2aa"
	t.Run("wrong password", func(t *testing.T) {
		c := good()
		c.Password = wrong
		err := refused(t, c, &syncBuf{}, []string{wrong, password}, "authorization violation")
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("want errors.Is(err, nats.ErrAuthorization): %v", err)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		c := good()
		c.User, c.Password = "", ""
		refused(t, c, &syncBuf{}, []string{password}, "authorization violation")
	})
	t.Run("unknown CA", func(t *testing.T) {
		other := issue(t, "other-ca", nil, true, 0)
		otherFile, _ := other.write(t, t.TempDir(), "other-ca")
		c := good()
		c.TLS.CAFile = otherFile
		refused(t, c, &syncBuf{}, []string{password}, "certificate", "unknown authority")
	})
	t.Run("plain client", func(t *testing.T) {
		// No TLS settings, nats:// URL: the client upgrades because the
		// server requires TLS, and the system roots do not know the CA.
		c := good()
		c.TLS = natsconn.TLSConfig{}
		refused(t, c, &syncBuf{}, []string{password}, "certificate")
	})
	t.Run("host name not in the certificate", func(t *testing.T) {
		c := good()
		c.URLs = []string{fmt.Sprintf("nats://localhost:%d", port)}
		refused(t, c, &syncBuf{}, []string{password}, "certificate", "localhost")
	})
	t.Run("CA file is not a certificate", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(bad, []byte("not a certificate\n"), 0o600)
		c := good()
		c.TLS.CAFile = bad
		refused(t, c, &syncBuf{}, []string{password}, "nats.tls.ca_file", "no PEM certificate")
	})
	t.Run("CA file missing", func(t *testing.T) {
		c := good()
		c.TLS.CAFile = filepath.Join(t.TempDir(), "absent.pem")
		refused(t, c, &syncBuf{}, []string{password}, "nats.tls.ca_file")
	})
}

// A client configured for TLS never falls back to plaintext: against a
// server that offers no TLS the connection is refused, naming the reason,
// and the password is not sent.
func TestConnectTLSConfiguredRefusesPlainServer(t *testing.T) {
	const password = "plain-pass-7a10c3"
	caFile, _ := tlsServerFiles(t)
	s := natstest.StartWith(t, func(o *server.Options) { o.Username, o.Password = "etl", password })
	cfg := natsconn.Default()
	cfg.URLs = []string{s.ClientURL()}
	cfg.User, cfg.Password = "etl", password
	cfg.TLS.CAFile = caFile
	// Retrying would take all of connect_retry (6 s here, 20 s by default):
	// this is no transient error either.
	cfg.ConnectRetry = 6 * time.Second
	refused(t, cfg, &syncBuf{}, []string{password}, "secure connection not available")
	if t.Failed() {
		t.Log("GAP: natsconn.retryableConnect treats nats.ErrSecureConnWanted (TLS configured, server offers none) " +
			"as transient and retries it for connect_retry; it is a configuration mismatch")
	}
}

// writeSecret writes a credential file the way an operator would (0600).
func writeSecret(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// NKey authentication over TLS: the seed file signs the server's nonce;
// another user's seed is refused at once; an unreadable or malformed seed
// file is an error naming nats.nkey_seed_file. No seed ever appears in an
// error or a log line.
func TestConnectTLSWithNKeySeedFile(t *testing.T) {
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	stranger, _ := nkeys.CreateUser()
	strangerSeed, _ := stranger.Seed()
	caFile, serverTLS := tlsServerFiles(t)
	s := natstest.StartWith(t, func(o *server.Options) {
		requireTLS(o, serverTLS)
		o.Nkeys = []*server.NkeyUser{{Nkey: pub}}
	})
	cfg := natsconn.Default()
	cfg.URLs = []string{s.ClientURL()}
	cfg.TLS.CAFile = caFile
	cfg.NKeySeedFile = writeSecret(t, "user.nk", seed)
	var logs syncBuf
	nc, err := natsconn.Connect(context.Background(), cfg, "t", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsconn.JetStream(context.Background(), nc); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	secrets := []string{string(seed), string(strangerSeed)}
	for _, sec := range secrets {
		if strings.Contains(logs.String(), sec) {
			t.Fatal("a seed is in the logs")
		}
	}

	t.Run("another user's seed", func(t *testing.T) {
		c := cfg
		c.NKeySeedFile = writeSecret(t, "stranger.nk", strangerSeed)
		err := refused(t, c, &syncBuf{}, secrets, "authorization violation")
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("want errors.Is(err, nats.ErrAuthorization): %v", err)
		}
	})
	t.Run("seed file missing", func(t *testing.T) {
		c := cfg
		c.NKeySeedFile = filepath.Join(t.TempDir(), "absent.nk")
		refused(t, c, &syncBuf{}, secrets, "nats.nkey_seed_file")
	})
	t.Run("seed file malformed", func(t *testing.T) {
		c := cfg
		c.NKeySeedFile = writeSecret(t, "bad.nk", []byte("SUAnotaseed\n"))
		refused(t, c, &syncBuf{}, secrets, "nats.nkey_seed_file")
	})
}

// operatorServer starts a server in operator (JWT) mode trusting a fresh
// operator, with one account that may use JetStream. It returns the
// server's options tweak and the account's signing key pair.
func operatorServer(t *testing.T, tweak func(*server.Options)) (*natstest.Server, nkeys.KeyPair) {
	t.Helper()
	op, _ := nkeys.CreateOperator()
	opPub, _ := op.PublicKey()
	acct, _ := nkeys.CreateAccount()
	acctPub, _ := acct.PublicKey()
	ac := jwt.NewAccountClaims(acctPub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	acctJWT, err := ac.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	// JetStream in operator mode needs a system account.
	sys, _ := nkeys.CreateAccount()
	sysPub, _ := sys.PublicKey()
	sysJWT, err := jwt.NewAccountClaims(sysPub).Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	if err := errors.Join(resolver.Store(acctPub, acctJWT), resolver.Store(sysPub, sysJWT)); err != nil {
		t.Fatal(err)
	}
	s := natstest.StartWith(t, func(o *server.Options) {
		o.TrustedKeys = []string{opPub}
		o.AccountResolver = resolver
		o.SystemAccount = sysPub
		tweak(o)
	})
	return s, acct
}

// credsFor returns a .creds file content for a new user signed by acct.
func credsFor(t *testing.T, acct nkeys.KeyPair) []byte {
	t.Helper()
	user, _ := nkeys.CreateUser()
	userPub, _ := user.PublicKey()
	userSeed, _ := user.Seed()
	uc := jwt.NewUserClaims(userPub)
	userJWT, err := uc.Encode(acct)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := jwt.FormatUserConfig(userJWT, userSeed)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

// A .creds file (user JWT + NKey seed) against a server in operator mode,
// over TLS: it connects and JetStream works; creds signed by an account the
// operator does not know are refused at once; a missing creds file fails
// with an error. No seed appears in an error or a log line.
func TestConnectTLSWithCredsFile(t *testing.T) {
	caFile, serverTLS := tlsServerFiles(t)
	s, acct := operatorServer(t, func(o *server.Options) { requireTLS(o, serverTLS) })
	creds := credsFor(t, acct)
	rogue, _ := nkeys.CreateAccount()
	rogueCreds := credsFor(t, rogue)
	seedOf := func(creds []byte) string {
		kp, err := jwt.ParseDecoratedNKey(creds)
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := kp.Seed()
		return string(seed)
	}
	secrets := []string{seedOf(creds), seedOf(rogueCreds)}

	cfg := natsconn.Default()
	cfg.URLs = []string{s.ClientURL()}
	cfg.TLS.CAFile = caFile
	cfg.CredsFile = writeSecret(t, "user.creds", creds)
	var logs syncBuf
	nc, err := natsconn.Connect(context.Background(), cfg, "t", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsconn.JetStream(context.Background(), nc); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	for _, sec := range secrets {
		if strings.Contains(logs.String(), sec) {
			t.Fatal("a seed is in the logs")
		}
	}

	t.Run("untrusted account", func(t *testing.T) {
		c := cfg
		c.CredsFile = writeSecret(t, "rogue.creds", rogueCreds)
		err := refused(t, c, &syncBuf{}, secrets, "authorization violation")
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("want errors.Is(err, nats.ErrAuthorization): %v", err)
		}
	})
	// Like nats.nkey_seed_file, an unusable creds file is a configuration
	// error: reported at once, naming the key, not retried for connect_retry
	// behind "is the server running?".
	credsGap := func(t *testing.T) {
		if t.Failed() {
			t.Log("GAP: natsconn.Connect retries an unusable nats.creds_file for connect_retry (20 s by default) " +
				"and does not name the key; read and parse it up front in Config.options as nkey_seed_file is")
		}
	}
	t.Run("creds file missing", func(t *testing.T) {
		defer credsGap(t)
		c := cfg
		c.ConnectRetry = 6 * time.Second // a retry shows as a >5 s refusal, and costs less while it is one
		c.CredsFile = filepath.Join(t.TempDir(), "absent.creds")
		refused(t, c, &syncBuf{}, secrets, "nats.creds_file", "absent.creds")
	})
	t.Run("creds file malformed", func(t *testing.T) {
		defer credsGap(t)
		c := cfg
		c.ConnectRetry = 6 * time.Second
		c.CredsFile = writeSecret(t, "bad.creds", []byte("-----BEGIN NATS USER JWT-----\nnot a jwt\n------END NATS USER JWT------\n"))
		refused(t, c, &syncBuf{}, secrets, "nats.creds_file")
	})
	t.Run("no creds", func(t *testing.T) {
		c := cfg
		c.CredsFile = ""
		refused(t, c, &syncBuf{}, secrets, "authorization violation")
	})
}
