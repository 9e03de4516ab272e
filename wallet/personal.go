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

// Personal data travels in these types: IDNumber, CardNumber, Mobile, Name,
// Secret and FaceImage. The rule for them:
//
//   - fmt (every verb) and slog print them masked, so logging a request,
//     or an error that quotes one, is safe;
//   - encoding/json refuses to write a non-empty one (ErrPersonalData),
//     loudly, instead of writing it in clear (a log line or a cache entry
//     nobody meant) or masked (data that silently vanishes from what the
//     merchant stored). Where you mean to store one, convert it:
//     string(v.Token), string(req.IDNumber);
//   - encoding/json reads them from a plain JSON string, so a merchant's
//     handler can decode its own front end's JSON into a request;
//   - only the SDK's wire encoder, whose output is encrypted at once,
//     writes them in clear.
//
// EncryptedPIN is a ciphertext, not personal data in clear: it prints as
// ****** but survives encoding/json ({"key_id":…,"ciphertext":…}).

// ErrPersonalData is wrapped by the error of json.Marshal for a value that
// holds personal data in clear (see IDNumber).
var ErrPersonalData = errors.New("wallet: personal data is not written by encoding/json; convert it explicitly where you mean to store it")

func refuseJSON(typ string, empty bool) ([]byte, error) {
	if empty {
		return []byte(`""`), nil
	}
	return nil, fmt.Errorf("%w (a wallet.%s)", ErrPersonalData, typ)
}

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

// MarshalJSON refuses a non-empty number (ErrPersonalData): see the rule
// above the type.
func (v IDNumber) MarshalJSON() ([]byte, error) { return refuseJSON("IDNumber", v == "") }

// String is the masked form: 4 first and 4 last digits.
func (v CardNumber) String() string { return mask.Card(string(v)) }

// Format prints the masked form for every verb.
func (v CardNumber) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue makes slog print the masked form.
func (v CardNumber) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON refuses a non-empty number (ErrPersonalData).
func (v CardNumber) MarshalJSON() ([]byte, error) { return refuseJSON("CardNumber", v == "") }

// String is the masked form: 3 first and 4 last digits.
func (v Mobile) String() string { return mask.Mobile(string(v)) }

// Format prints the masked form for every verb.
func (v Mobile) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue makes slog print the masked form.
func (v Mobile) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON refuses a non-empty number (ErrPersonalData).
func (v Mobile) MarshalJSON() ([]byte, error) { return refuseJSON("Mobile", v == "") }

// String is the masked form: the last character only.
func (v Name) String() string { return mask.Name(string(v)) }

// Format prints the masked form for every verb.
func (v Name) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue makes slog print the masked form.
func (v Name) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON refuses a non-empty name (ErrPersonalData).
func (v Name) MarshalJSON() ([]byte, error) { return refuseJSON("Name", v == "") }

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

// MarshalJSON refuses a non-empty secret (ErrPersonalData): keep a verify
// token between two steps as string(v.Token), in a store you trust.
func (s Secret) MarshalJSON() ([]byte, error) { return refuseJSON("Secret", s == "") }

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

// MarshalJSON refuses a non-empty image (ErrPersonalData).
func (img FaceImage) MarshalJSON() ([]byte, error) { return refuseJSON("FaceImage", len(img) == 0) }

// EncryptedPIN is a six-digit PIN encrypted to one bank key
// (docs/protocol.md, section 5). In production the user's device makes it
// with the key Client.PINKey describes, so that the merchant's servers never
// see the digits; Client.EncryptPIN makes one on the server for tests and
// tools. The request that carries it is encrypted to the same key. It
// prints as ******.
type EncryptedPIN struct {
	KeyID      string `json:"key_id"`     // the bank key id the PIN is encrypted to
	Ciphertext string `json:"ciphertext"` // base64 SM2 C1C3C2 of the six ASCII digits
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

// UnmarshalJSON reads the form MarshalJSON writes ({"key_id", "ciphertext"})
// and the wire form, a bare ciphertext string (whose key id travels in the
// envelope's encrypt_key_id, and is left empty here).
func (p *EncryptedPIN) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = EncryptedPIN{Ciphertext: s}
		return nil
	}
	type plain EncryptedPIN
	return json.Unmarshal(b, (*plain)(p))
}

// IsZero reports whether no PIN was given.
func (p EncryptedPIN) IsZero() bool { return p.Ciphertext == "" }

// Check reports whether p cannot be a PIN ciphertext: no key id, not
// base64, or not the length of an SM2 C1C3C2 ciphertext of six digits. It
// cannot tell whether the PIN is right; the bank can. The error is the
// reason alone, for a FieldError.
func (p EncryptedPIN) Check() error {
	if p.Ciphertext == "" {
		return errors.New("is required (the user's device encrypts it with the key of Client.PINKey)")
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

// EncryptPIN encrypts a six-digit PIN, at once, to the bank key the client
// encrypts requests to. It is for tests, tools and the sandbox: in
// production the PIN is encrypted on the user's device (Client.PINKey says
// with which key) so that it never passes through the merchant's servers in
// clear. It fails with a FieldError for anything but six ASCII digits.
func (c *Client) EncryptPIN(pin string) (EncryptedPIN, error) {
	if c == nil || c.core == nil {
		return EncryptedPIN{}, errNoClient
	}
	k, err := c.core.EncryptKey()
	if err != nil {
		return EncryptedPIN{}, fmt.Errorf("wallet: %w", err)
	}
	ct, err := sign.EncryptPIN(k.Key, pin)
	if err != nil {
		return EncryptedPIN{}, &FieldError{Field: "password", Reason: "must be six digits"}
	}
	return EncryptedPIN{KeyID: k.ID, Ciphertext: ct}, nil
}
