//go:build ignore

// Command generate writes the TEST KEY files of this folder that the
// project makes itself (see README.md), with the engine's own packages:
// smx509 for the certificates and cfca for the CFCA SADK key file. Run it
// from the repository root:
//
//	go run ./sign/testdata/keys/generate.go
//
// Every run makes new keys: update the expectations in sign's tests and
// examples that name a fingerprint after running it.
package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emmansun/gmsm/cfca"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

const (
	dir      = "sign/testdata/keys"
	password = "test-password"
)

func main() {
	ca, err := sm2.GenerateKey(rand.Reader)
	check(err)
	merchant, err := sm2.GenerateKey(rand.Reader)
	check(err)

	notBefore := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter := time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "TEST CA ewallet-go", Organization: []string{"ewallet-go tests"}, Country: []string{"CN"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := smx509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &ca.PublicKey, ca)
	check(err)
	caCert, err := smx509.ParseCertificate(caDER)
	check(err)

	leafTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(0x1040990809ab), // printed as 1040990809AB
		Subject:      pkix.Name{CommonName: "TEST KEY merchant M100000001", Organization: []string{"ewallet-go tests"}, Country: []string{"CN"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	leafDER, err := smx509.CreateCertificate(rand.Reader, leafTemplate, caCert, &merchant.PublicKey, ca)
	check(err)
	leaf, err := smx509.ParseCertificate(leafDER)
	check(err)

	keyDER, err := smx509.MarshalPKCS8PrivateKey(merchant)
	check(err)
	sm2File, err := cfca.MarshalSM2([]byte(password), merchant, leaf)
	check(err)

	write("test-ca.crt.pem", "TEST KEY - the certificate of the test CA that issued merchant.crt.pem.\n",
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	write("merchant.crt.pem", "TEST KEY - a merchant certificate (SM2 key, SM2-with-SM3 signature by test-ca.crt.pem).\n",
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}))
	write("merchant.key.pem", "TEST KEY - the private key of merchant.crt.pem and merchant.sm2. Never use it for anything but tests.\n",
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	// CFCA SADK writes the file as base64 in lines of 76 characters, with
	// no header; the TEST KEY label is in the certificate's subject.
	write("merchant.sm2", "", []byte(lines(base64.StdEncoding.EncodeToString(sm2File), 76)))
}

func lines(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	b.WriteString(s + "\n")
	return b.String()
}

func write(name, label string, body []byte) {
	check(os.WriteFile(filepath.Join(dir, name), append([]byte(label), body...), 0o644))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
