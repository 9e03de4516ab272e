package sign

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Certificate is an X.509 certificate of an SM2 public key, as CFCA and
// bank CAs issue them to merchants. The SDK signs with the key, not with the
// certificate: the fields below are for the merchant's records and renewal
// reminders (which certificate is installed, when it expires).
//
// Parsing checks the form and that the key is SM2; it does not verify the
// issuer's signature or the validity period, since the bank trusts the key
// it registered for the merchant, not a certificate chain.
type Certificate struct {
	// SerialNumber as issued; CFCA and bank portals print it in hex
	// (fmt's %X).
	SerialNumber *big.Int
	// Subject and Issuer are the distinguished names in RFC 2253 form,
	// such as "CN=…,O=…,C=CN".
	Subject, Issuer string
	// NotBefore and NotAfter bound the validity period.
	NotBefore, NotAfter time.Time
	// Raw is the DER certificate, to store or to hand on unchanged.
	Raw []byte

	key *PublicKey
}

// PublicKey returns the SM2 public key the certificate holds, or nil for a
// Certificate that was not made by this package.
func (c *Certificate) PublicKey() *PublicKey { return c.key }

// ParseCertificate loads an X.509 certificate of an SM2 key from PEM
// ("CERTIFICATE"; the first such block, so that a file with the chain after
// the merchant's own certificate loads), from DER, or from DER in base64 (a
// ".cer" file as CFCA hands it out). A certificate of an RSA, ECDSA or other
// non-SM2 key is rejected; so is anything after the DER certificate.
func ParseCertificate(data []byte) (*Certificate, error) {
	der, err := certificateDER(data)
	if err != nil {
		return nil, err
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %v", ErrInvalidKey, err)
	}
	return newCertificate(c)
}

// certificateDER finds the DER bytes of a certificate in PEM, DER or base64.
func certificateDER(data []byte) ([]byte, error) {
	return fileDER(data, "certificate", func(text []byte) ([]byte, error) {
		var first string
		for rest := text; ; {
			var block *pem.Block
			if block, rest = pem.Decode(rest); block == nil {
				break
			}
			if block.Type == "CERTIFICATE" {
				return block.Bytes, nil
			}
			if first == "" {
				first = block.Type
			}
		}
		if first == "" {
			return nil, fmt.Errorf("%w: certificate: malformed PEM", ErrInvalidKey)
		}
		return nil, fmt.Errorf("%w: certificate: no CERTIFICATE block in the PEM (found %q)", ErrInvalidKey, first)
	})
}

// fileDER returns the DER of a file that comes as DER, as base64 text (line
// breaks allowed) or as PEM, which fromPEM reads. what names the file in
// errors.
func fileDER(data []byte, what string, fromPEM func(text []byte) ([]byte, error)) ([]byte, error) {
	if len(data) > 0 && data[0] == 0x30 {
		// A DER SEQUENCE, taken as it is: trimming "spaces" would cut
		// binary. Text forms never start with "0" (base64 of DER starts
		// with "M").
		return data, nil
	}
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("%w: %s: empty input", ErrInvalidKey, what)
	case bytes.Contains(trimmed, []byte("-----BEGIN")):
		return fromPEM(trimmed)
	}
	der, err := decodeBase64Text(trimmed)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: bad base64 (it is read as DER, base64 text or PEM)", ErrInvalidKey, what)
	}
	return der, nil
}

// decodeBase64Text decodes standard base64 broken into lines, as Windows
// tools and CFCA write .cer and .sm2 files.
func decodeBase64Text(text []byte) ([]byte, error) {
	compact := make([]byte, 0, len(text))
	for _, c := range text {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			compact = append(compact, c)
		}
	}
	return base64.StdEncoding.Strict().AppendDecode(nil, compact)
}

func newCertificate(c *smx509.Certificate) (*Certificate, error) {
	k, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: certificate: its key is %s, not SM2", ErrInvalidKey, c.PublicKeyAlgorithm)
	}
	key, err := newPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: its key is ECDSA on %s, not SM2", ErrInvalidKey, curveName(k.Curve))
	}
	return &Certificate{
		SerialNumber: c.SerialNumber,
		Subject:      c.Subject.String(),
		Issuer:       c.Issuer.String(),
		NotBefore:    c.NotBefore,
		NotAfter:     c.NotAfter,
		Raw:          bytes.Clone(c.Raw), // c.Raw aliases the caller's buffer
		key:          key,
	}, nil
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil || c.Params().Name == "" {
		return "an unnamed curve"
	}
	return c.Params().Name
}

// ParseKeyPair loads a merchant's certificate and private key, as a CA
// hands them out in two PEM files (or one file holding both: pass it
// twice), and checks that they belong together, so that a key and a
// certificate mixed up at renewal fail at start-up, not at the bank.
//
// certPEM is read as by ParseCertificate. keyPEM is the first private key
// block in it (PKCS#8, SEC1, or encrypted PKCS#8 with password), or 64 hex
// characters; password may be nil for an unencrypted key.
func ParseKeyPair(certPEM, keyPEM, password []byte) (*PrivateKey, *Certificate, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, nil, err
	}
	key, err := parsePrivateKey(keyPEM, password, true)
	if err != nil {
		return nil, nil, err
	}
	if err := checkPair(cert, key); err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// checkPair reports a certificate that holds another key than k. The
// message names both by fingerprint, which is safe to log.
func checkPair(cert *Certificate, k *PrivateKey) error {
	if !cert.key.Equal(k.pub) {
		return fmt.Errorf("%w: the certificate (serial %X) holds key %s, not the private key's %s",
			ErrInvalidKey, cert.SerialNumber, cert.key.Fingerprint(), k.pub.Fingerprint())
	}
	return nil
}
