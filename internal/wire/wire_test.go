package wire

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTime(t *testing.T) {
	var v struct {
		A Time `json:"a"`
		B Time `json:"b"`
		C Time `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"a":"2026-11-25 16:00:00","b":""}`), &v); err != nil {
		t.Fatal(err)
	}
	if !v.A.Equal(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)) || !v.B.IsZero() || !v.C.IsZero() {
		t.Fatalf("decoded %v %v %v", v.A, v.B, v.C)
	}
	for _, bad := range []string{`{"a":"2026-11-25T16:00:00Z"}`, `{"a":12}`, `{"a":"2026-13-01 00:00:00"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	b, _ := json.Marshal(v.A)
	if string(b) != `"2026-11-25 16:00:00"` {
		t.Fatalf("marshal: %s", b)
	}
	if Format(time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)) != "2027-01-01 00:00:00" {
		t.Fatal("Format must be UTC+8")
	}
}
