package wallet_test

import (
	"io"
	"strings"
	"time"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

var testNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
