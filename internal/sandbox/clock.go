package sandbox

import (
	"errors"
	"time"
)

// timeLayout is the protocol's time format, always in UTC+8.
const timeLayout = "2006-01-02 15:04:05"

// shanghai is UTC+8 without daylight saving (none since 1991), the zone of
// every protocol time and of the day and year turnover of the limits.
var shanghai = time.FixedZone("UTC+8", 8*3600)

// formatTime writes t in the protocol format; the zero time is "" so that a
// time that has not happened is left out of the JSON (omitempty).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(shanghai).Format(timeLayout)
}

// parseTime reads the protocol format strictly: time.Parse alone accepts a
// one-digit hour, which no conforming sender writes.
func parseTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(timeLayout, s, shanghai)
	if err != nil || len(s) != len(timeLayout) || t.Format(timeLayout) != s {
		return time.Time{}, errors.New("must be yyyy-MM-dd HH:mm:ss (UTC+8)")
	}
	return t, nil
}

// dayKey and yearKey name the business day and year of t in UTC+8: limits,
// PIN locks and verification counters reset when they change.
func dayKey(t time.Time) string  { return t.In(shanghai).Format("2006-01-02") }
func yearKey(t time.Time) string { return t.In(shanghai).Format("2006") }
