package sign

import (
	"errors"
)

// ErrPINFormat is returned for a PIN that is not exactly six ASCII digits.
var ErrPINFormat = errors.New("sign: PIN must be six ASCII digits")

// EncryptPIN encrypts a six-digit PIN to a bank key: base64 of the SM2
// C1C3C2 ciphertext of its six ASCII digits (docs/protocol.md, section 5).
// The request that carries it must name the same bank key in
// encrypt_key_id. In production the user's device encrypts the PIN (the
// merchant's servers never see it); this function is for tests, tools and
// the sandbox.
func EncryptPIN(bank *PublicKey, pin string) (string, error) {
	if !isPIN(pin) {
		return "", ErrPINFormat
	}
	ct, err := bank.Encrypt([]byte(pin))
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(ct), nil
}

// isPIN reports whether s is six ASCII digits.
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
