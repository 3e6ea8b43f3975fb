package testserver

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/gozeo/gozeo/zrpc"
)

func TestTLSRequiresClientCertificate(t *testing.T) {
	serverConf, clientConf := TLSPair(t)
	srv := Start(t, Options{Profile: "z5-py3", TLS: serverConf})

	c := dialTLS(t, srv, clientConf)
	if c.server != zrpc.Z5 {
		t.Fatalf("announced %q over TLS", c.server)
	}
	c.register(srv)
	c.mustCall("lastTransaction")

	// Without a client certificate the TLS handshake fails: the client
	// never sees a version.
	noCert := clientConf.Clone()
	noCert.Certificates = nil
	nc, err := tls.Dial("tcp", srv.Addr(), noCert)
	if err == nil {
		fr := zrpc.NewFrameReader(nc)
		_, err = fr.ReadFrame()
		nc.Close()
	}
	if err == nil {
		t.Fatal("a client without a certificate got a version")
	}

	// Plain TCP to a TLS server gets nothing either.
	plain, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	plain.Write([]byte("\x00\x00\x00\x02Z5"))
	if _, err := zrpc.NewFrameReader(plain).ReadFrame(); err == nil {
		t.Fatal("a plain TCP client got a ZEO frame from a TLS server")
	}
}

func TestTLSOptionsChecked(t *testing.T) {
	serverConf, _ := TLSPair(t)
	if _, err := New(Options{Profile: "z4-py27", TLS: serverConf}); err == nil {
		t.Fatal("a ZEO 4 profile accepted TLS")
	}
	noCA := serverConf.Clone()
	noCA.ClientCAs = nil
	if _, err := New(Options{Profile: "z5-py3", TLS: noCA}); err == nil {
		t.Fatal("TLS without client CAs accepted: ZEO 5 requires client certificates")
	}
	// The server forces client verification whatever the config says.
	lax := serverConf.Clone()
	lax.ClientAuth = tls.NoClientCert
	srv, err := New(Options{Profile: "m5-py3", TLS: lax})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.tls.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatalf("ClientAuth %v", srv.tls.ClientAuth)
	}
}
