package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"
)

// serverTLS checks a TLS config for the profile and returns the config the
// server uses: a copy that requires and verifies client certificates, as
// ZEO 5's server context always does (CERT_REQUIRED, docs/protocol.md, TLS).
func serverTLS(p Profile, c *tls.Config) (*tls.Config, error) {
	if !p.caps().TLS {
		return nil, fmt.Errorf("testserver: profile %s (%s) has no TLS: it arrived with ZEO 5; use a z5 or m5 profile, or Options.Auth for digest authentication", p.Name, p.Release)
	}
	if len(c.Certificates) == 0 && c.GetCertificate == nil && c.GetConfigForClient == nil {
		return nil, errors.New("testserver: Options.TLS has no server certificate (Certificates or GetCertificate); TLSPair makes a matching server and client pair")
	}
	if c.ClientCAs == nil && c.GetConfigForClient == nil {
		return nil, errors.New("testserver: Options.TLS has no ClientCAs: a ZEO 5 server requires client certificates and needs the CA that signed them (the authenticate key of its <ssl> section); TLSPair sets one up")
	}
	c = c.Clone()
	c.ClientAuth = tls.RequireAndVerifyClientCert
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c, nil
}

// TLSPair returns matching throwaway TLS configs for tests: a server
// config with a certificate for 127.0.0.1, ::1 and localhost that requires
// client certificates, and a client config with a client certificate,
// both signed by a fresh in-memory CA the other side trusts. It fails the
// test if the keys cannot be made.
func TLSPair(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	server, client, err := NewTLSPair()
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	return server, client
}

// NewTLSPair is TLSPair for programs: the example server and the clients
// pointed at it.
func NewTLSPair() (server, client *tls.Config, err error) {
	ca, caKey, err := newCert(nil, nil, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "gozeo test CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return nil, nil, err
	}
	srvCert, _, err := newCert(ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "gozeo test server"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, nil, err
	}
	cliCert, _, err := newCert(ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "gozeo test client"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Leaf)
	server = &tls.Config{
		Certificates: []tls.Certificate{*srvCert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	client = &tls.Config{
		Certificates: []tls.Certificate{*cliCert},
		RootCAs:      pool,
		MinVersion:   tls.VersionTLS12,
	}
	return server, client, nil
}

// newCert makes an ECDSA P-256 certificate from template, signed by
// parent (self-signed when parent is nil).
func newCert(parent *tls.Certificate, parentKey *ecdsa.PrivateKey, template *x509.Certificate) (*tls.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("testserver: generating a TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, fmt.Errorf("testserver: generating a certificate serial: %w", err)
	}
	template.SerialNumber = serial
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(24 * time.Hour)
	signer, signerKey := template, key
	if parent != nil {
		signer, signerKey = parent.Leaf, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, nil, fmt.Errorf("testserver: signing a TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("testserver: reading back a TLS certificate: %w", err)
	}
	cert := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	if parent != nil {
		cert.Certificate = append(cert.Certificate, parent.Certificate[0])
	}
	return cert, key, nil
}
