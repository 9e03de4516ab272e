package sandbox

import (
	"errors"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// formatTime writes t in the protocol format (yyyy-MM-dd HH:mm:ss, UTC+8);
// the zero time is "" so that a time that has not happened is left out of
// the JSON (omitempty).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(wire.Shanghai).Format(wire.Layout)
}

// parseTime reads the protocol format strictly: time.Parse alone accepts a
// one-digit hour, which no conforming sender writes.
func parseTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(wire.Layout, s, wire.Shanghai)
	if err != nil || len(s) != len(wire.Layout) || t.Format(wire.Layout) != s {
		return time.Time{}, errors.New("must be yyyy-MM-dd HH:mm:ss (UTC+8)")
	}
	return t, nil
}

// dayKey and yearKey name the business day and year of t in UTC+8: limits,
// PIN locks and verification counters reset when they change.
func dayKey(t time.Time) string  { return t.In(wire.Shanghai).Format("2006-01-02") }
func yearKey(t time.Time) string { return t.In(wire.Shanghai).Format("2006") }

// nextTimeOfDay is the first instant at or after t whose UTC+8 wall clock
// reads hour:minute:00.
func nextTimeOfDay(t time.Time, hour, minute int) time.Time {
	l := t.In(wire.Shanghai)
	at := time.Date(l.Year(), l.Month(), l.Day(), hour, minute, 0, 0, wire.Shanghai)
	if at.Before(t) {
		at = at.AddDate(0, 0, 1)
	}
	return at
}
