package alert

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func parseCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %q", b)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGenerateCertsMakesAMutualTLSPair(t *testing.T) {
	certs, err := GenerateCerts("falco.test", "127.0.0.1", "::1")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, certs.CA))

	server := parseCert(t, certs.ServerCert)
	for _, name := range []string{"falco.test", "127.0.0.1", "::1"} {
		if err := server.VerifyHostname(name); err != nil {
			t.Errorf("server certificate: %v", err)
		}
	}
	if err := server.VerifyHostname("elsewhere.test"); err == nil {
		t.Error("server certificate valid for a name it was not made for")
	}
	if _, err := server.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("server certificate: %v", err)
	}
	client := parseCert(t, certs.ClientCert)
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate usable as a server certificate")
	}
	for name, pair := range map[string][2][]byte{"server": {certs.ServerCert, certs.ServerKey}, "client": {certs.ClientCert, certs.ClientKey}} {
		if _, err := tls.X509KeyPair(pair[0], pair[1]); err != nil {
			t.Errorf("%s key pair: %v", name, err)
		}
	}

	other, err := GenerateCerts()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseCert(t, other.ClientCert).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("a second CA's client certificate verifies against the first CA")
	}
	def := parseCert(t, other.ServerCert)
	if def.VerifyHostname("localhost") != nil || !def.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
		t.Errorf("default server names %v %v, want localhost and 127.0.0.1", def.DNSNames, def.IPAddresses)
	}
}

func TestCertsWriteFiles(t *testing.T) {
	certs, err := GenerateCerts()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "certs")
	files, err := certs.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path, name string
		data       []byte
		private    bool
	}{
		{files.CA, CAFile, certs.CA, false},
		{files.ServerCert, ServerCertFile, certs.ServerCert, false},
		{files.ServerKey, ServerKeyFile, certs.ServerKey, true},
		{files.ClientCert, ClientCertFile, certs.ClientCert, false},
		{files.ClientKey, ClientKeyFile, certs.ClientKey, true},
	} {
		if f.path != filepath.Join(dir, f.name) {
			t.Errorf("path %q, want %q", f.path, filepath.Join(dir, f.name))
		}
		b, err := os.ReadFile(f.path)
		if err != nil || !bytes.Equal(b, f.data) {
			t.Errorf("%s: %v, content equal %v", f.path, err, bytes.Equal(b, f.data))
		}
		st, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if other := st.Mode().Perm() & 0o077; f.private && other != 0 {
			t.Errorf("%s: mode %v, want the key private to its owner", f.path, st.Mode())
		}
	}
	if _, err := (&Certs{}).WriteFiles(t.TempDir()); err == nil {
		t.Error("WriteFiles of empty Certs succeeded")
	}
}
