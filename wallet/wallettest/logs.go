package wallettest

import (
	"bytes"
	"log/slog"
	"sync"
)

// Logs collects what a test's loggers write, for the test to read back:
// that a journey logged what it should, and nothing personal. Its Write
// is safe for many goroutines (a client, a notification handler and the
// sandbox log at once). The zero value is ready to use.
//
//	var logs wallettest.Logs
//	c := bank.Client(wallet.WithLogger(logs.Logger()))
//	… the journey …
//	require.NotContains(t, logs.String(), string(person.IDNumber))
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger is a debug-level text logger writing to l. Its records carry no
// time: a time's nanoseconds are digits that can hold a six-digit PIN or
// SMS code by chance, and a test looking for one must not find it there.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: dropTime}))
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
