package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/sign"
)

// core is the bank's business logic: typed arguments in, a typed result or
// an *apiError out. It knows nothing of envelopes, JSON or HTTP, so that the
// API gateway and the H5 pages run exactly the same rules.
type core struct {
	st     *store
	log    *slog.Logger
	notify func(event)
	// decodes is a semaphore of maxFaceDecodes slots, one per face image
	// being decoded (face.go).
	decodes chan struct{}
}

// caller is the merchant app on whose behalf an operation runs. Its
// MerchantID is the channel that scopes every account and order it sees.
type caller struct {
	AppID      string
	MerchantID string
	NotifyURL  string // the merchant's default notification URL
}

// pinValue is a PIN as the operation receives it: already decrypted by the
// gateway (outside the store lock, as decryption is slow), or the reason it
// could not be. The error is answered only when the PIN step is reached,
// so that the order of checks stays that of docs/protocol.md.
type pinValue struct {
	field  string
	given  bool
	digits string
	err    *apiError
}

// clearPIN is a PIN that arrived in clear (the H5 pages, over TLS).
func clearPIN(field, digits string) pinValue {
	return pinValue{field: field, given: digits != "", digits: digits}
}

// decryptPIN is the gateway's reading of a PIN field: SM2 under the bank
// key that the request's encrypt_key_id named (section 5).
func decryptPIN(field, ciphertext string, key *sign.PrivateKey) pinValue {
	p := pinValue{field: field, given: ciphertext != ""}
	if !p.given {
		return p
	}
	if key == nil {
		p.err = fail(codeDecryptFailed, field+": a PIN travels only in an encrypted request, under the key named by encrypt_key_id")
		return p
	}
	d, err := openPIN(key, ciphertext)
	switch {
	case errors.Is(err, errNotSixDigits):
		p.err = fail(codeDecryptFailed, field+": does not decrypt to six digits")
	case err != nil:
		p.err = fail(codeDecryptFailed, field+": does not decrypt under the bank key named by encrypt_key_id")
	default:
		p.digits = d
	}
	return p
}

var errNotSixDigits = errors.New("not six digits")

// openPIN is the bank side of sign.EncryptPIN: base64 of the SM2 C1C3C2
// ciphertext of six ASCII digits, and nothing longer.
func openPIN(key *sign.PrivateKey, ciphertext string) (string, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(ciphertext)
	if err != nil {
		return "", err
	}
	if len(raw) != 65+32+6 {
		return "", errors.New("not the length of a PIN ciphertext")
	}
	pt, err := key.Decrypt(context.Background(), raw)
	if err != nil {
		return "", err
	}
	for _, c := range pt {
		if c < '0' || c > '9' {
			return "", errNotSixDigits
		}
	}
	return string(pt), nil
}

// run executes one business operation as a store transaction and sends its
// notifications once it is saved.
func (c *core) run(fn func(tx *txn) *apiError) *apiError {
	events, err := c.st.update(func(tx *txn) *apiError {
		tx.s.eph.sweep(tx.now)
		return fn(tx)
	})
	for _, ev := range events {
		c.notify(ev)
	}
	return err
}

// statusErr is the answer for an account that may not change or move money.
func statusErr(a *account) *apiError {
	switch a.Status {
	case statusFrozen:
		return failCode(codeAccountFrozen)
	case statusClosed:
		return failCode(codeAccountClosed)
	}
	return nil
}

// newPINHash makes the salt and hash to store for a new PIN.
func newPINHash(pin string) (salt, hash string) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	salt = hex.EncodeToString(b[:])
	return salt, pinHash(salt, pin)
}

func pinHash(salt, pin string) string { return sign.SM3Hex([]byte(salt + pin)) }

// maxPINFailures wrong PINs in one business day lock the password.
const maxPINFailures = 5

// checkPIN is the PIN step: locked, undecryptable, wrong (counted), or nil.
// The fifth wrong PIN of the day still answers PASSWORD_INCORRECT and locks;
// the lock lifts at midnight UTC+8 or by a password reset.
func (tx *txn) checkPIN(a *account, pin pinValue) *apiError {
	today := dayKey(tx.now)
	if a.PINFailDay == today && a.PINFails >= maxPINFailures {
		return failCode(codePasswordLocked)
	}
	if pin.err != nil {
		return pin.err
	}
	if subtle.ConstantTimeCompare([]byte(pinHash(a.PINSalt, pin.digits)), []byte(a.PINHash)) == 1 {
		return nil
	}
	e := tx.edit(a)
	if e.PINFailDay != today {
		e.PINFailDay, e.PINFails = today, 0
	}
	e.PINFails++
	left := maxPINFailures - e.PINFails
	if left == 0 {
		return fail(codePasswordIncorrect, "password is incorrect; it is now locked until tomorrow or a reset")
	}
	return fail(codePasswordIncorrect, "password is incorrect; "+strconv.Itoa(left)+" attempts left today")
}

// checkNewPIN is the PIN step of open and reset: the PIN must decrypt and
// must not be weak.
func checkNewPIN(pin pinValue) *apiError {
	if pin.err != nil {
		return pin.err
	}
	if rules.WeakPIN(pin.digits) {
		return failCode(codePasswordWeak)
	}
	return nil
}

// --- format checks ---------------------------------------------------------

// fieldCheck is one field's format verdict; firstInvalid answers the first
// failure in the order the fields are listed, as PARAM_INVALID "field: reason".
type fieldCheck struct {
	field string
	err   error
}

func firstInvalid(checks ...fieldCheck) *apiError {
	for _, c := range checks {
		if c.err != nil {
			return paramInvalid(c.field, c.err.Error())
		}
	}
	return nil
}

var errRequired = errors.New("is required")

// required checks a mandatory string field with a rule of internal/rules.
func required(field, v string, rule func(string) error) fieldCheck {
	if v == "" {
		return fieldCheck{field, errRequired}
	}
	return fieldCheck{field, rule(v)}
}

// optional checks a field only when it is present.
func optional(field, v string, rule func(string) error) fieldCheck {
	if v == "" {
		return fieldCheck{field: field}
	}
	return fieldCheck{field, rule(v)}
}

func amountCheck(field string, n int64) fieldCheck { return fieldCheck{field, rules.Amount(n)} }

func pinGiven(p pinValue) fieldCheck {
	if !p.given {
		return fieldCheck{p.field, errRequired}
	}
	return fieldCheck{p.field, nil}
}

func text(limit int) func(string) error { return func(s string) error { return rules.Text(s, limit) } }

func oneOf(values ...string) func(string) error {
	return func(s string) error {
		for _, v := range values {
			if s == v {
				return nil
			}
		}
		return errors.New("must be one of " + strings.Join(values, ", "))
	}
}
