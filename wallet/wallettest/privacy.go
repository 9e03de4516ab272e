package wallettest

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
)

// RequireMasked fails t when any of the values, formatted with fmt (every
// common verb) or logged with slog's text and JSON handlers, shows one of
// the secrets in clear.
func RequireMasked(t TB, values []any, secrets ...string) {
	t.Helper()
	for _, v := range values {
		var logs bytes.Buffer
		slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "v", v)
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "v", v)
		out := fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", v, v, v, v, v, v) + logs.String()
		for _, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("%T shows %q in clear:\n%s", v, s, out)
			}
		}
	}
}
