package statement

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
)

// Descriptor is the bank's answer to bill/download: it names the file and
// pins what it must be. Money is fen; times are UTC+8.
type Descriptor struct {
	// FileID is 32 lowercase hex characters: the file's name in the download
	// URL, and part of every segment's AAD.
	FileID string
	// Date is the business day, at 00:00 UTC+8.
	Date time.Time
	Type Type
	// Records is the number of data lines (the header not counted).
	Records int64
	// AmountSum is the sum of the amount column (signed for LEDGER).
	AmountSum int64
	// Size is the file's length in bytes, as downloaded.
	Size int64
	// SM3 is the SM3 of the file's bytes, 64 lowercase hex characters.
	SM3 string
	// EncryptKey is the file's 16-byte SM4 key in an SM2 key envelope to the
	// merchant's public key: OpenKey opens it.
	EncryptKey string
	// ExpiresAt is when the download URL stops serving the file (HTTP 404).
	ExpiresAt time.Time
}

// minFileSize is the smallest possible file: the magic, the nonce prefix
// and an empty last segment (its tag alone).
const minFileSize = int64(headerSize + tagSize)

// descriptorJSON is the descriptor on the wire. Counts and money are JSON
// numbers (docs/protocol.md, "Amounts"); a quoted decimal is accepted too,
// as the conformance vectors write them that way.
type descriptorJSON struct {
	FileID     string          `json:"file_id"`
	BillDate   string          `json:"bill_date"`
	BillType   Type            `json:"bill_type"`
	Records    json.RawMessage `json:"records"`
	AmountSum  json.RawMessage `json:"amount_sum"`
	Size       json.RawMessage `json:"size"`
	SM3        string          `json:"sm3"`
	EncryptKey string          `json:"encrypt_key"`
	ExpiresAt  string          `json:"expires_at"`
}

// UnmarshalJSON reads the descriptor from biz_content and validates it: an
// error matches ErrDescriptor and names the field.
func (d *Descriptor) UnmarshalJSON(b []byte) error {
	var w descriptorJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%w: not a JSON object of the descriptor's fields", ErrDescriptor)
	}
	v := Descriptor{FileID: w.FileID, Type: w.BillType, SM3: w.SM3, EncryptKey: w.EncryptKey}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *int64
	}{{"records", w.Records, &v.Records}, {"amount_sum", w.AmountSum, &v.AmountSum}, {"size", w.Size, &v.Size}} {
		n, err := jsonInt(f.raw)
		if err != nil {
			return descriptorError(f.name, err.Error())
		}
		*f.dst = n
	}
	var err error
	if v.Date, err = parseDate(w.BillDate); err != nil {
		return descriptorError("bill_date", err.Error())
	}
	if w.ExpiresAt == "" {
		return descriptorError("expires_at", "is required")
	}
	if v.ExpiresAt, err = wire.Parse(w.ExpiresAt); err != nil {
		return descriptorError("expires_at", err.Error())
	}
	if err := v.Validate(); err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes the descriptor as the bank does, so that it can be
// kept beside a saved file.
func (d Descriptor) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		FileID     string `json:"file_id"`
		BillDate   string `json:"bill_date"`
		BillType   Type   `json:"bill_type"`
		Records    int64  `json:"records"`
		AmountSum  int64  `json:"amount_sum"`
		Size       int64  `json:"size"`
		SM3        string `json:"sm3"`
		EncryptKey string `json:"encrypt_key"`
		ExpiresAt  string `json:"expires_at"`
	}{d.FileID, d.Date.In(wire.Shanghai).Format(dateLayout), d.Type, d.Records, d.AmountSum, d.Size,
		d.SM3, d.EncryptKey, wire.Format(d.ExpiresAt)})
}

// Validate checks every field's rule; the error matches ErrDescriptor and
// names the field.
func (d Descriptor) Validate() error {
	switch {
	case !rules.LowerHex(d.FileID, 32):
		return descriptorError("file_id", "must be 32 lowercase hex characters")
	case d.Date.IsZero():
		return descriptorError("bill_date", "is required")
	case d.Type != Trade && d.Type != Ledger:
		return descriptorError("bill_type", "must be TRADE or LEDGER")
	case d.Records < 0:
		return descriptorError("records", "must not be negative")
	case d.Type == Trade && d.AmountSum < 0:
		return descriptorError("amount_sum", "must not be negative for TRADE")
	case d.Size < minFileSize:
		return descriptorError("size", fmt.Sprintf("must be at least %d bytes", minFileSize))
	case !rules.LowerHex(d.SM3, 64):
		return descriptorError("sm3", "must be 64 lowercase hex characters")
	case d.EncryptKey == "":
		return descriptorError("encrypt_key", "is required")
	}
	return nil
}

func descriptorError(field, reason string) error {
	return fmt.Errorf("%w: %s: %s", ErrDescriptor, field, reason)
}

// OpenKey opens the descriptor's file key with the merchant's private key
// (in memory, or behind a sign.Signer such as an HSM). The key is 16 bytes;
// keep it no longer than the download.
func OpenKey(ctx context.Context, k sign.Signer, d Descriptor) ([]byte, error) {
	ek, err := base64.StdEncoding.Strict().DecodeString(d.EncryptKey)
	if err != nil {
		return nil, fmt.Errorf("%w: encrypt_key is not base64", sign.ErrDecrypt)
	}
	key, err := k.Decrypt(ctx, ek)
	if err != nil {
		return nil, err
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("%w: encrypt_key holds %d bytes, want %d", sign.ErrDecrypt, len(key), keySize)
	}
	return key, nil
}

// FileURL is where the file of fileID is downloaded: {base}/bills/{file_id},
// base being the bank's base URL (with any mount prefix).
func FileURL(base, fileID string) string {
	return strings.TrimRight(base, "/") + "/bills/" + fileID
}

// parseDate reads yyyy-MM-dd strictly (two-digit month and day) as 00:00
// UTC+8.
func parseDate(s string) (time.Time, error) {
	t, err := time.ParseInLocation(dateLayout, s, wire.Shanghai)
	if err != nil || t.Format(dateLayout) != s {
		return time.Time{}, errors.New("must be yyyy-MM-dd")
	}
	return t, nil
}

// jsonInt reads an integer field that is a JSON number or a quoted
// decimal, strictly (no sign but "-", no leading zeros, no fraction).
func jsonInt(raw json.RawMessage) (int64, error) {
	s := string(raw)
	if s == "" || s == "null" {
		return 0, errors.New("is required")
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	n, ok := parseInt(s)
	if !ok {
		return 0, errors.New("must be an integer")
	}
	return n, nil
}
