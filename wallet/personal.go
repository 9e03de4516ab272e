package wallet

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/xinyun-open/ewallet-go/internal/mask"
	"github.com/xinyun-open/ewallet-go/sign"
)

// Personal data travels in these types. Each prints itself masked with fmt
// (every verb) and slog, so logging a request is safe; only the JSON encoder
// that builds the encrypted biz_content sees the clear value.

// IDNumber is a PRC resident identity number. Printed: 110***********4514.
type IDNumber string

// CardNumber is a bank card number. Printed: 6222********5678.
type CardNumber string

// Mobile is a mobile number. Printed: 138****8000.
type Mobile string

// Name is a person's name. Printed: *三.
type Name string

// String is the masked form: 3 first and 4 last characters.
func (v IDNumber) String() string { return mask.IDNumber(string(v)) }

// Format prints the masked form for every verb, %#v and %x included.
func (v IDNumber) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue makes slog print the masked form.
func (v IDNumber) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON writes the masked form: json.Marshal of a request, or slog's
// JSON handler, never shows the number. The wire encoder (MarshalWire)
// writes it in clear, inside the encrypted body only.
func (v IDNumber) MarshalJSON() ([]byte, error) { return json.Marshal(v.String()) }

// String is the masked form: 4 first and 4 last digits.
func (v CardNumber) String() string { return mask.Card(string(v)) }

// Format prints the masked form for every verb.
func (v CardNumber) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue makes slog print the masked form.
func (v CardNumber) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON writes the masked form; see IDNumber.MarshalJSON.
func (v CardNumber) MarshalJSON() ([]byte, error) { return json.Marshal(v.String()) }

// String is the masked form: 3 first and 4 last digits.
func (v Mobile) String() string { return mask.Mobile(string(v)) }

// Format prints the masked form for every verb.
func (v Mobile) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue makes slog print the masked form.
func (v Mobile) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON writes the masked form; see IDNumber.MarshalJSON.
func (v Mobile) MarshalJSON() ([]byte, error) { return json.Marshal(v.String()) }

// String is the masked form: the last character only.
func (v Name) String() string { return mask.Name(string(v)) }

// Format prints the masked form for every verb.
func (v Name) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue makes slog print the masked form.
func (v Name) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON writes the masked form; see IDNumber.MarshalJSON.
func (v Name) MarshalJSON() ([]byte, error) { return json.Marshal(v.String()) }

// EncryptedPIN is a six-digit PIN encrypted to one bank key (PROTOCOL.md
// section 5). Get one from Client.EncryptPIN, or build one from a ciphertext
// the merchant's app made with the bank key it was given. The request that
// carries it is encrypted to the same key. It prints as ******.
type EncryptedPIN struct {
	KeyID      string // the bank key id the PIN is encrypted to
	Ciphertext string // base64 SM2 C1C3C2 of the six ASCII digits
}

// String hides the ciphertext: it is of no use to a reader of logs.
func (p EncryptedPIN) String() string {
	if p.Ciphertext == "" {
		return ""
	}
	return "******(" + p.KeyID + ")"
}

// Format prints String for every verb.
func (p EncryptedPIN) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// LogValue makes slog print String.
func (p EncryptedPIN) LogValue() slog.Value { return slog.StringValue(p.String()) }

// MarshalJSON writes the masked form; the wire encoder (MarshalWire)
// writes the ciphertext, the form the protocol carries.
func (p EncryptedPIN) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// IsZero reports whether no PIN was given.
func (p EncryptedPIN) IsZero() bool { return p.Ciphertext == "" }

// EncryptPIN encrypts a six-digit PIN the user typed, at once, to the bank
// key this client encrypts requests to. Keep the clear PIN no longer than
// this call. It fails with a FieldError for anything but six ASCII digits.
func (c *Client) EncryptPIN(pin string) (EncryptedPIN, error) {
	id, key, err := c.keys.encryptKey(c.pinnedKeyID, c.now())
	if err != nil {
		return EncryptedPIN{}, err
	}
	ct, err := sign.EncryptPIN(key, pin)
	if err != nil {
		return EncryptedPIN{}, &FieldError{Field: "password", Reason: "must be six digits"}
	}
	return EncryptedPIN{KeyID: id, Ciphertext: ct}, nil
}

// Secret is a short-lived credential the bank issued or sent to the user
// (an SMS code, a verify token). Printed: ******.
type Secret string

// String shows only that a value is there.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "******"
}

// Format prints the masked form for every verb.
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue makes slog print the masked form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes the masked form; see IDNumber.MarshalJSON.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// FaceImage is a JPEG or PNG photo of the user's face (at most 1 MiB), for
// the bank's face check. It travels as base64 inside the encrypted body and
// prints only its size.
type FaceImage []byte

// String describes the image without its bytes.
func (img FaceImage) String() string { return fmt.Sprintf("<face image, %d bytes>", len(img)) }

// Format prints String for every verb.
func (img FaceImage) Format(f fmt.State, _ rune) { fmt.Fprint(f, img.String()) }

// LogValue makes slog print String.
func (img FaceImage) LogValue() slog.Value { return slog.StringValue(img.String()) }

// MarshalJSON writes String, not the photo; the wire encoder (MarshalWire)
// writes its base64.
func (img FaceImage) MarshalJSON() ([]byte, error) { return json.Marshal(img.String()) }

// Masked renders a request for logs: every personal field prints masked,
// because each masks itself. Request types of the SDK use it as their
// LogValue, so that slog's JSON handler, which would otherwise marshal the
// clear wire form, prints the masked one too.
func Masked(v any) slog.Value { return slog.StringValue(fmt.Sprintf("%+v", v)) }

// Check reports whether p cannot be a PIN ciphertext: no key id, not
// base64, or not the length of an SM2 C1C3C2 ciphertext of six digits. It
// cannot tell whether the PIN is right; the bank can. The error is the
// reason alone, for a FieldError.
func (p EncryptedPIN) Check() error {
	if p.Ciphertext == "" {
		return errors.New("is required (Client.EncryptPIN makes one)")
	}
	if p.KeyID == "" {
		return errors.New("has no bank key id")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(p.Ciphertext)
	if err != nil || len(raw) != pinCiphertextLen || raw[0] != 4 {
		return errors.New("is not an SM2 C1C3C2 ciphertext of six digits in base64")
	}
	return nil
}

// pinCiphertextLen is C1 (65) + C3 (32) + six digits.
const pinCiphertextLen = 65 + 32 + 6
