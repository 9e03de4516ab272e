// Package mask hides personal data for display and logs: identity numbers,
// card numbers, mobiles and names keep a few characters and show '*' for the
// rest. Both the SDK (its self-masking types) and the sandbox bank (the
// name_masked and card_no_masked fields) use it.
package mask

import (
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Keep shows the first head and last tail characters of s and '*' for each
// character between. A value too short to hide anything is all stars.
func Keep(s string, head, tail int) string {
	n := utf8.RuneCountInString(s)
	if n <= head+tail {
		return strings.Repeat("*", n)
	}
	r := []rune(s)
	return string(r[:head]) + strings.Repeat("*", n-head-tail) + string(r[n-tail:])
}

// IDNumber shows 3 + 4: 110***********4514.
func IDNumber(s string) string { return Keep(s, 3, 4) }

// Mobile shows 3 + 4: 138****8000.
func Mobile(s string) string { return Keep(s, 3, 4) }

// Card shows the first and last four digits around eight stars, whatever the
// card's length (6222********5678), as bank pages do.
func Card(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + "********" + s[len(s)-4:]
}

// Name shows only the last character: 张三 → *三, 欧阳娜娜 → ***娜.
func Name(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 1 {
		return strings.Repeat("*", n)
	}
	return Keep(s, 0, 1)
}

// Secret shows nothing but that a value is there.
func Secret(s string) string {
	if s == "" {
		return ""
	}
	return "******"
}

// Value renders a value for logs with fmt's %+v: every personal field of
// the SDK's types prints masked, because each masks itself. The SDK's
// request types use it as their LogValue, so that slog's JSON handler,
// which would otherwise call encoding/json, prints the masked form too.
func Value(v any) slog.Value { return slog.StringValue(fmt.Sprintf("%+v", v)) }
