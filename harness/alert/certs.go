package alert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names Certs.WriteFiles uses: the ones Falco's gRPC documentation uses
// for grpc.private_key, grpc.cert_chain and grpc.root_certs
// (falco.org/docs/grpc/grpc-config: /etc/falco/certs/server.key,
// server.crt, ca.crt) and for client-go's client (client.crt, client.key).
const (
	CAFile         = "ca.crt"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
	ClientCertFile = "client.crt"
	ClientKeyFile  = "client.key"
)

// certValidity bounds the throw-away certificates: one run, with room for
// clock skew between host and container.
const certValidity = 48 * time.Hour

// Certs is a throw-away PKI for Falco's gRPC over TCP, which demands mutual
// TLS: a CA, a server certificate for Falco and a client certificate for the
// harness, all PEM. The CA's key is discarded once both are signed.
type Certs struct {
	CA         []byte // CA certificate
	ServerCert []byte
	ServerKey  []byte // PKCS #8
	ClientCert []byte
	ClientKey  []byte // PKCS #8
}

// CertFiles are the paths WriteFiles wrote. In Falco's config:
// grpc.private_key = ServerKey, grpc.cert_chain = ServerCert,
// grpc.root_certs = CA; in GRPCConfig: CertFile = ClientCert,
// KeyFile = ClientKey, CARootFile = CA.
type CertFiles struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
}

// GenerateCerts makes a CA and signs a server certificate whose subject
// alternative names are hosts (IP addresses become IP SANs, the rest DNS
// names; the client must dial one of them) and a client certificate.
// With no hosts, the server certificate names localhost and 127.0.0.1.
// Keys are ECDSA P-256, which gRPC's TLS (BoringSSL/OpenSSL in Falco,
// crypto/tls here) accepts.
func GenerateCerts(hosts ...string) (*Certs, error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ca key: %w", err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"attack-replay"}, CommonName: "attack-replay throw-away CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	if caTmpl.SerialNumber, err = serial(); err != nil {
		return nil, err
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign ca certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse ca certificate: %w", err)
	}

	leaf := func(cn string, usage x509.ExtKeyUsage, sans []string) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, fmt.Errorf("generate %s key: %w", cn, err)
		}
		tmpl := &x509.Certificate{
			Subject:     pkix.Name{Organization: []string{"attack-replay"}, CommonName: cn},
			NotBefore:   now.Add(-time.Hour),
			NotAfter:    now.Add(certValidity),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if tmpl.SerialNumber, err = serial(); err != nil {
			return nil, nil, err
		}
		for _, h := range sans {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, fmt.Errorf("sign %s certificate: %w", cn, err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, fmt.Errorf("encode %s key: %w", cn, err)
		}
		return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
	}

	c := &Certs{CA: pemBlock("CERTIFICATE", caDER)}
	if c.ServerCert, c.ServerKey, err = leaf("falco", x509.ExtKeyUsageServerAuth, hosts); err != nil {
		return nil, err
	}
	if c.ClientCert, c.ClientKey, err = leaf("attack-replay", x509.ExtKeyUsageClientAuth, nil); err != nil {
		return nil, err
	}
	return c, nil
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	return n, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// WriteFiles writes the PEM files into dir (created if missing) under the
// names CAFile, ServerCertFile, ServerKeyFile, ClientCertFile and
// ClientKeyFile, and returns their paths. Keys are readable by the owner
// only; Falco runs as root in its container, so it can read them.
func (c *Certs) WriteFiles(dir string) (CertFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return CertFiles{}, fmt.Errorf("write certificates: %w", err)
	}
	f := CertFiles{
		CA:         filepath.Join(dir, CAFile),
		ServerCert: filepath.Join(dir, ServerCertFile),
		ServerKey:  filepath.Join(dir, ServerKeyFile),
		ClientCert: filepath.Join(dir, ClientCertFile),
		ClientKey:  filepath.Join(dir, ClientKeyFile),
	}
	for _, w := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.CA, c.CA, 0o644},
		{f.ServerCert, c.ServerCert, 0o644},
		{f.ServerKey, c.ServerKey, 0o600},
		{f.ClientCert, c.ClientCert, 0o644},
		{f.ClientKey, c.ClientKey, 0o600},
	} {
		if len(w.data) == 0 {
			return CertFiles{}, fmt.Errorf("write certificate %q: no data (use GenerateCerts)", w.path)
		}
		if err := os.WriteFile(w.path, w.data, w.mode); err != nil {
			return CertFiles{}, fmt.Errorf("write certificate: %w", err)
		}
	}
	return f, nil
}
