package cliflags

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// FileError reports a file named by a TLS flag that could not be read or
// used. errors.Is(err, fs.ErrNotExist) tells a missing file.
type FileError struct {
	Flag string // the flag that named the file, e.g. "-tls-ca"
	File string // the file
	Err  error  // what went wrong
}

func (e *FileError) Error() string {
	reason := e.Err
	// A read error repeats the path the message starts with: keep its cause.
	var pe *fs.PathError
	if errors.As(reason, &pe) && pe.Path == e.File {
		reason = pe.Err
	}
	return fmt.Sprintf("%s %s: %v", e.Flag, e.File, reason)
}

func (e *FileError) Unwrap() error { return e.Err }

// errNoCertificate says a file meant to hold certificates holds none.
var errNoCertificate = errors.New("no PEM certificate in it")

// tlsConfig builds the client's TLS configuration from the -tls flags.
func (c *Conn) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: c.TLSInsecure}
	if c.TLSCA != "" {
		data, err := os.ReadFile(c.TLSCA)
		if err != nil {
			return nil, &FileError{Flag: "-tls-ca", File: c.TLSCA, Err: err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, &FileError{Flag: "-tls-ca", File: c.TLSCA, Err: errNoCertificate}
		}
		cfg.RootCAs = pool
	}
	if c.TLSCert != "" {
		cert, err := loadKeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loadKeyPair reads the client certificate and its key; without keyFile
// the key is looked for in certFile, where PEM tools often put both. The
// certificate is checked on its own first so that an error blames the
// right file.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, &FileError{Flag: "-tls-cert", File: certFile, Err: err}
	}
	if err := checkCertificate(certPEM); err != nil {
		return tls.Certificate{}, &FileError{Flag: "-tls-cert", File: certFile, Err: err}
	}
	keyFlag, keyPEM := "-tls-key", certPEM
	if keyFile == "" {
		keyFlag, keyFile = "-tls-cert", certFile
	} else if keyPEM, err = os.ReadFile(keyFile); err != nil {
		return tls.Certificate{}, &FileError{Flag: keyFlag, File: keyFile, Err: err}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if keyFlag == "-tls-cert" {
			err = fmt.Errorf("%w (without -tls-key the key must be in this file too)", err)
		} else {
			err = fmt.Errorf("%w (it must be the key of -tls-cert %s)", err, certFile)
		}
		return tls.Certificate{}, &FileError{Flag: keyFlag, File: keyFile, Err: err}
	}
	return cert, nil
}

// checkCertificate returns an error unless data holds a PEM certificate
// and the first one parses.
func checkCertificate(data []byte) error {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return errNoCertificate
		}
		if block.Type == "CERTIFICATE" {
			_, err := x509.ParseCertificate(block.Bytes)
			return err
		}
	}
}
