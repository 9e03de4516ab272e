// Package rules holds the field rules of docs/protocol.md (sections 3, 4, 8 and
// 9) that both the SDK and the sandbox bank enforce: identity numbers
// (GB 11643), card numbers (Luhn), mobiles, amounts, order numbers, free
// text, URLs, PINs and images. Each check returns nil or an error whose text
// is the reason alone: never the value, which may be personal data. Callers
// add the field name.
package rules

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	_ "image/jpeg" // DecodeConfig of face images
	_ "image/png"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of the protocol as this project reads it (docs/protocol.md).
const (
	// MaxAmount is the largest amount in fen: 2^53-1, the largest integer a
	// JSON number carries exactly through any parser.
	MaxAmount int64 = 1<<53 - 1
	// MaxImageBytes bounds a decoded face image (1 MiB).
	MaxImageBytes = 1 << 20
	// MinAge is the youngest applicant the bank accepts.
	MinAge = 16
)

var shanghai = time.FixedZone("UTC+8", 8*3600)

// IDNumber checks an 18-character PRC resident identity number: 17 digits,
// a check character (0-9 or X) that matches GB 11643, and a real birth date.
// A lowercase x is refused: the bank stores the number as issued.
func IDNumber(s string) error {
	if len(s) != 18 {
		return errors.New("must be 18 characters")
	}
	for i := 0; i < 17; i++ {
		if !isDigit(s[i]) {
			return errors.New("first 17 characters must be digits")
		}
	}
	if c := s[17]; !isDigit(c) && c != 'X' {
		return errors.New("last character must be a digit or X")
	}
	if s[0] == '0' {
		return errors.New("region code is not valid")
	}
	if _, err := birthDate(s); err != nil {
		return err
	}
	if checkChar(s[:17]) != s[17] {
		return errors.New("check digit does not match")
	}
	return nil
}

// checkChar is the GB 11643-1999 check character of 17 digits.
func checkChar(digits string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(digits[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// IDCheckChar returns the check character that completes 17 digits into a
// valid identity number; tests and the sandbox use it to make test people.
func IDCheckChar(first17 string) byte { return checkChar(first17) }

func birthDate(id string) (time.Time, error) {
	d, err := time.ParseInLocation("20060102", id[6:14], shanghai)
	if err != nil || d.Year() < 1900 {
		return time.Time{}, errors.New("birth date is not valid")
	}
	// Against the real clock: a number whose holder is not born yet is not
	// a number (the sandbox's business clock only ever runs ahead of it).
	if d.After(time.Now()) {
		return time.Time{}, errors.New("birth date is in the future")
	}
	return d, nil
}

// Age returns the completed years of the holder of a valid identity number
// at now (in UTC+8).
func Age(id string, now time.Time) (int, error) {
	if err := IDNumber(id); err != nil {
		return 0, err
	}
	b, _ := birthDate(id)
	n := now.In(shanghai)
	if b.After(n) {
		return 0, errors.New("birth date is in the future")
	}
	age := n.Year() - b.Year()
	if n.Month() < b.Month() || (n.Month() == b.Month() && n.Day() < b.Day()) {
		age--
	}
	return age, nil
}

// CardNumber checks a bank card number: 16 to 19 digits with a valid Luhn
// check digit.
func CardNumber(s string) error {
	if len(s) < 16 || len(s) > 19 {
		return errors.New("must be 16 to 19 digits")
	}
	if !allDigits(s) {
		return errors.New("must be digits only")
	}
	if !luhn(s) {
		return errors.New("check digit does not match (Luhn)")
	}
	return nil
}

func luhn(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// LuhnDigit returns the digit that completes a card number prefix.
func LuhnDigit(prefix string) byte {
	for d := byte('0'); d <= '9'; d++ {
		if luhn(prefix + string(d)) {
			return d
		}
	}
	return '0'
}

// Mobile checks a mainland mobile number: ^1[3-9][0-9]{9}$.
func Mobile(s string) error {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' || !allDigits(s) {
		return errors.New("must be 11 digits starting 13 to 19")
	}
	return nil
}

// AccountNo checks a Class II account number: 16 to 19 digits.
func AccountNo(s string) error {
	if len(s) < 16 || len(s) > 19 || !allDigits(s) {
		return errors.New("must be 16 to 19 digits")
	}
	return nil
}

// OrderNo checks a merchant order or refund number (out_trade_no,
// out_refund_no): 6 to 32 characters of letters, digits, '_' and '-'.
func OrderNo(s string) error {
	if len(s) < 6 || len(s) > 32 {
		return errors.New("must be 6 to 32 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '_' && c != '-' {
			return errors.New("may hold only letters, digits, '_' and '-'")
		}
	}
	return nil
}

// UserID checks the merchant's own user id: 1 to 64 characters of letters,
// digits and "_-.@".
func UserID(s string) error {
	if len(s) < 1 || len(s) > 64 {
		return errors.New("must be 1 to 64 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !strings.ContainsRune("_-.@", rune(c)) {
			return errors.New("may hold only letters, digits and _-.@")
		}
	}
	return nil
}

// MsgID checks a message id: 32 lowercase hex characters.
func MsgID(s string) error {
	if !LowerHex(s, 32) {
		return errors.New("must be 32 lowercase hex characters")
	}
	return nil
}

// LowerHex reports whether s is n lowercase hex characters (a msg_id, a
// statement's file_id, an SM3 digest).
func LowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && !(c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Nonce checks an H5 link nonce: 16 to 32 letters and digits.
func Nonce(s string) error {
	if len(s) < 16 || len(s) > 32 {
		return errors.New("must be 16 to 32 letters and digits")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') {
			return errors.New("must be 16 to 32 letters and digits")
		}
	}
	return nil
}

// Amount checks an amount in fen: at least 1 and at most MaxAmount.
func Amount(n int64) error {
	if n <= 0 {
		return errors.New("must be at least 1 fen")
	}
	if n > MaxAmount {
		return errors.New("is larger than the protocol carries (2^53-1 fen)")
	}
	return nil
}

// Name checks a person's name as on the identity card: 1 to 64 characters
// of valid UTF-8 with no control characters, not blank.
func Name(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("is required")
	}
	return Text(s, 64)
}

// Text checks optional free text (subject, remark, reason, address): valid
// UTF-8, no control characters, at most max characters.
func Text(s string, max int) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return errors.New("is longer than " + itoa(max) + " characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errors.New("holds a control character")
		}
	}
	return nil
}

// SMSCode checks an SMS verification code: six digits.
func SMSCode(s string) error {
	if len(s) != 6 || !allDigits(s) {
		return errors.New("must be six digits")
	}
	return nil
}

// Token checks an opaque token the bank issued (verify_token, sms_serial):
// 1 to 64 printable ASCII characters.
func Token(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	if len(s) > 64 {
		return errors.New("is longer than 64 characters")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return errors.New("must be printable ASCII")
		}
	}
	return nil
}

// WeakPIN reports whether six digits are a PIN the bank refuses: all equal,
// or an ascending or descending run (123456, 654321).
func WeakPIN(pin string) bool {
	if len(pin) != 6 {
		return false
	}
	same, up, down := true, true, true
	for i := 1; i < 6; i++ {
		d := int(pin[i]) - int(pin[i-1])
		same = same && d == 0
		up = up && d == 1
		down = down && d == -1
	}
	return same || up || down
}

// CallbackURL checks a return_url or notify_url: an absolute https URL, or
// http on a loopback host (for development), at most 512 characters.
func CallbackURL(s string) error {
	if len(s) > 512 {
		return errors.New("is longer than 512 characters")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute URL")
	}
	if u.User != nil {
		return errors.New("must not carry user info")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("must use https (http only on a loopback host)")
	}
	return errors.New("must use https (http only on a loopback host)")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ImageFormat returns "jpeg" or "png" when b starts like one and is at most
// MaxImageBytes long. It reads the signature only; decoding is the bank's.
func ImageFormat(b []byte) (string, error) {
	if len(b) == 0 {
		return "", errors.New("is required")
	}
	if len(b) > MaxImageBytes {
		return "", errors.New("is larger than 1 MiB")
	}
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "jpeg", nil
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "png", nil
	}
	return "", errors.New("must be a JPEG or PNG image")
}

// MaxDecodedImageBytes bounds the pixels an image may decode to: a small
// PNG can declare 4096×4096 pixels of 16-bit color (128 MiB), and whoever
// decodes it pays for them.
const MaxDecodedImageBytes = 32 << 20

// FaceImage checks a face photo without decoding its pixels: a JPEG or PNG
// of at most 1 MiB whose header parses and whose decoded pixels would not
// exceed MaxDecodedImageBytes.
func FaceImage(b []byte) error {
	if _, err := ImageFormat(b); err != nil {
		return err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return errors.New("is not a readable JPEG or PNG image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return errors.New("has no pixels")
	}
	if int64(cfg.Width)*int64(cfg.Height)*int64(bytesPerPixel(cfg.ColorModel)) > MaxDecodedImageBytes {
		return errors.New("would decode to more than 32 MiB of pixels")
	}
	return nil
}

// bytesPerPixel is what the image package allocates per pixel for a color
// model; unknown models count as the widest (8).
func bytesPerPixel(m color.Model) int {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel, color.NYCbCrAModel:
		return 4
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
