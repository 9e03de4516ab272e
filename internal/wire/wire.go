// Package wire holds the SDK side's encoding of protocol values: the time
// format (yyyy-MM-dd HH:mm:ss in UTC+8) and a time type that decodes it from
// biz_content JSON. The sandbox bank keeps its own copy of these few lines on
// purpose: the two sides must not share a mistake.
package wire

import (
	"bytes"
	"errors"
	"time"
)

// Layout is the protocol's time format.
const Layout = "2006-01-02 15:04:05"

// Shanghai is UTC+8, the protocol's zone. China has kept no daylight saving
// since 1991, so a fixed zone is exact and needs no tzdata on the host.
var Shanghai = time.FixedZone("UTC+8", 8*3600)

// Format writes t in the protocol format.
func Format(t time.Time) string { return t.In(Shanghai).Format(Layout) }

// Parse reads a protocol time.
func Parse(s string) (time.Time, error) {
	t, err := time.ParseInLocation(Layout, s, Shanghai)
	if err != nil {
		return time.Time{}, errors.New("time is not yyyy-MM-dd HH:mm:ss")
	}
	return t, nil
}

// Time decodes a protocol time from a JSON string; null, "" or an absent
// field leave it zero.
type Time struct{ time.Time }

// UnmarshalJSON reads "yyyy-MM-dd HH:mm:ss".
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) || bytes.Equal(b, []byte(`""`)) {
		t.Time = time.Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("time must be a JSON string")
	}
	v, err := Parse(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON writes the protocol format, or null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + Format(t.Time) + `"`), nil
}
