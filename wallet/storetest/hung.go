package storetest

import (
	"net"
	"sync"
	"testing"
	"time"
)

// HungDeadline is the deadline of the calls of the tests of a store that
// hangs: each must return within a second of it.
const HungDeadline = 300 * time.Millisecond

// HungServer listens on a loopback port, accepts every connection and
// never answers, as a server that hangs (a stopped process, a full disk, a
// network that drops packets) does. It returns the address, and stops when
// the test ends.
func HungServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
