package sign

import (
	"encoding/asn1"
	"encoding/pem"
	"fmt"

	"github.com/emmansun/gmsm/cfca"
	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/smx509"
)

// cfcaFile is the ASN.1 of a CFCA SADK ".sm2" key file, the structure
// cfca.ParseSM2 reads: the SM2 private scalar encrypted with SM4-CBC under a
// key and IV derived from the password, and the certificate of its public
// key. ParseCFCAKey reads it first on its own, to check what cfca.ParseSM2
// takes on trust (a ciphertext of whole SM4 blocks, nothing after the
// structure) and to name the part that is wrong.
type cfcaFile struct {
	Version      int `asn1:"default:1"`
	EncryptedKey struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   asn1.ObjectIdentifier
		Ciphertext  []byte // OCTET STRING
	}
	Certificate struct {
		ContentType asn1.ObjectIdentifier
		DER         []byte // OCTET STRING
	}
}

// The private scalar is at most 32 bytes, so its SM4-CBC ciphertext (with
// PKCS#7 padding) is one to three blocks.
const (
	cfcaMinCiphertext = 16
	cfcaMaxCiphertext = 48
)

// ParseCFCAKey loads the SM2 key file that CFCA issues with a merchant's
// certificate (the ".sm2" file of CFCA SADK): the private key, encrypted
// under the password chosen when the certificate was downloaded, and the
// certificate. data is the file as it is: base64 text (line breaks allowed),
// its DER, or the DER in a PEM block of any label.
//
// The key and the certificate are checked to belong together. A wrong
// password gives an error that says so; it cannot be told apart from a
// damaged key part of the file.
func ParseCFCAKey(data, password []byte) (*PrivateKey, *Certificate, error) {
	if len(password) == 0 {
		return nil, nil, fmt.Errorf("%w: CFCA key file: empty password", ErrInvalidKey)
	}
	der, err := cfcaDER(data)
	if err != nil {
		return nil, nil, err
	}
	var f cfcaFile
	rest, err := asn1.Unmarshal(der, &f)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("%w: not a CFCA SM2 key file: %v", ErrInvalidKey, err)
	case len(rest) > 0:
		return nil, nil, fmt.Errorf("%w: CFCA key file: %d bytes after its structure", ErrInvalidKey, len(rest))
	case f.Version != 1:
		return nil, nil, fmt.Errorf("%w: CFCA key file: version %d, want 1", ErrInvalidKey, f.Version)
	case !f.EncryptedKey.ContentType.Equal(pkcs7.SM2OIDData):
		return nil, nil, fmt.Errorf("%w: not a CFCA SM2 key file: key content type %v, want %v",
			ErrInvalidKey, f.EncryptedKey.ContentType, pkcs7.SM2OIDData)
	case !f.Certificate.ContentType.Equal(pkcs7.SM2OIDData):
		return nil, nil, fmt.Errorf("%w: not a CFCA SM2 key file: certificate content type %v, want %v",
			ErrInvalidKey, f.Certificate.ContentType, pkcs7.SM2OIDData)
	case !f.EncryptedKey.Algorithm.Equal(pkcs.SM4.OID()) && !f.EncryptedKey.Algorithm.Equal(pkcs.SM4CBC.OID()):
		return nil, nil, fmt.Errorf("%w: CFCA key file: key cipher %v, want SM4", ErrInvalidKey, f.EncryptedKey.Algorithm)
	}
	if n := len(f.EncryptedKey.Ciphertext); n < cfcaMinCiphertext || n > cfcaMaxCiphertext || n%16 != 0 {
		// cfca.ParseSM2 would panic on a partial SM4 block.
		return nil, nil, fmt.Errorf("%w: CFCA key file: encrypted key of %d bytes, want 16, 32 or 48", ErrInvalidKey, n)
	}
	c, err := smx509.ParseCertificate(f.Certificate.DER)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: CFCA key file: certificate: %v", ErrInvalidKey, err)
	}
	cert, err := newCertificate(c)
	if err != nil {
		return nil, nil, err
	}
	// The structure and the certificate are sound, so what cfca.ParseSM2
	// can still refuse is the decrypted key: a wrong password, or a key
	// that is not the certificate's.
	sk, _, err := cfca.ParseSM2(password, der)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: CFCA key file: wrong password, or a damaged or foreign key (%v)", ErrInvalidKey, err)
	}
	key, err := newPrivateKey(sk)
	if err != nil {
		return nil, nil, err
	}
	if err := checkPair(cert, key); err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// cfcaDER finds the DER of a CFCA key file in base64 text, DER or PEM.
func cfcaDER(data []byte) ([]byte, error) {
	return fileDER(data, "CFCA key file", func(text []byte) ([]byte, error) {
		// CFCA defines no PEM label; gmsm's examples use "CFCA KEY".
		block, _ := pem.Decode(text)
		if block == nil {
			return nil, fmt.Errorf("%w: CFCA key file: malformed PEM", ErrInvalidKey)
		}
		if isPrivateKeyType(block.Type) {
			return nil, fmt.Errorf("%w: PEM type %q is a PKCS#8 or SEC1 key, not a CFCA key file: use ParseEncryptedPrivateKey", ErrInvalidKey, block.Type)
		}
		return block.Bytes, nil
	})
}
