package sign

import (
	"errors"
	"fmt"
)

// ErrPINFormat is returned for a PIN that is not exactly six ASCII digits.
var ErrPINFormat = errors.New("sign: PIN must be six ASCII digits")

// EncryptPIN encrypts a six-digit PIN to a bank key: base64 of the SM2
// C1C3C2 ciphertext of its six ASCII digits (PROTOCOL.md section 5). The
// request that carries it must name the same bank key in encrypt_key_id.
func EncryptPIN(bank *PublicKey, pin string) (string, error) {
	if !isPIN(pin) {
		return "", ErrPINFormat
	}
	ct, err := sm2Encrypt(bank, []byte(pin))
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(ct), nil
}

// DecryptPIN is the bank side of EncryptPIN: it returns the six digits, or an
// error wrapping ErrDecrypt (or ErrPINFormat when the plaintext is not a PIN).
func DecryptPIN(k *PrivateKey, ciphertext string) (string, error) {
	ct, err := b64.DecodeString(ciphertext)
	if err != nil {
		return "", fmt.Errorf("%w: PIN is not base64", ErrDecrypt)
	}
	pt, err := sm2Decrypt(k, ct, 6)
	if err != nil {
		return "", fmt.Errorf("%w: PIN: %v", ErrDecrypt, err)
	}
	if !isPIN(string(pt)) {
		return "", ErrPINFormat
	}
	return string(pt), nil
}

func isPIN(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
