package chaos

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// newToxiproxy starts a Toxiproxy proxy in the test's process, listening
// on a free loopback port and forwarding to upstream (host:port). Its
// address is p.Listen.
func newToxiproxy(t *testing.T, name, upstream string) *toxiproxy.Proxy {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// toxic is one Toxiproxy toxic, as its HTTP API takes it.
type toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"` // upstream (to the server), downstream (to the client)
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// addToxics puts toxics on p, each with the given toxicity.
func addToxics(t *testing.T, p *toxiproxy.Proxy, toxicity float32, ts ...toxic) {
	t.Helper()
	for _, tx := range ts {
		tx.Toxicity = toxicity
		if tx.Name == "" {
			tx.Name = tx.Type + "_" + tx.Stream
		}
		b, err := json.Marshal(tx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Toxics.AddToxicJson(strings.NewReader(string(b))); err != nil {
			t.Fatalf("adding toxic %s: %v", b, err)
		}
	}
}

// setToxics replaces the toxics on p with ts at toxicity. It takes them
// off and puts new ones on, rather than changing their toxicity in place
// through the API (UpdateToxicJson), which writes ToxicWrapper.Toxicity
// while the goroutines of new connections read it: a data race in
// Toxiproxy v2.12.0 (toxic_collection.go:154 against toxics/toxic.go:85)
// that -race reports.
func setToxics(t *testing.T, p *toxiproxy.Proxy, toxicity float32, ts ...toxic) {
	t.Helper()
	clearToxics(p)
	addToxics(t, p, toxicity, ts...)
}

// clearToxics takes every toxic off p: the network heals.
func clearToxics(p *toxiproxy.Proxy) {
	p.Toxics.ResetToxics(context.Background())
}

// meter is an http.RoundTripper that counts attempts and measures the
// bytes each connection carried (with keep-alives off, one request each).
type meter struct {
	rt       http.RoundTripper
	attempts atomic.Int64
	closed   atomic.Int64 // connections closed

	mu             sync.Mutex
	lastWritten    int64 // bytes the last closed connection wrote (the request)
	lastRead       int64 // and read (the answer)
	lastReqBody    int64
	lastAnswerBody int64
}

// newMeter returns a meter over a transport that dials a fresh
// connection for every request, so that Toxiproxy draws each toxic anew
// for every attempt and a byte limit counts one request.
func newMeter() *meter {
	m := &meter{}
	d := &net.Dialer{Timeout: 5 * time.Second}
	m.rt = &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: c, m: m}, nil
		},
	}
	return m
}

func (m *meter) RoundTrip(r *http.Request) (*http.Response, error) {
	m.attempts.Add(1)
	m.mu.Lock()
	m.lastReqBody = r.ContentLength
	m.mu.Unlock()
	resp, err := m.rt.RoundTrip(r)
	if err == nil {
		m.mu.Lock()
		m.lastAnswerBody = resp.ContentLength
		m.mu.Unlock()
	}
	return resp, err
}

// waitClosed waits until more than n connections have closed (the
// transport closes one after reading its answer).
func (m *meter) waitClosed(n int64, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m.closed.Load() > n {
			return true
		}
	}
	return false
}

// sizes returns the last connection's request and answer: header and body
// bytes.
func (m *meter) sizes() (reqHeader, reqBody, ansHeader, ansBody int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastWritten - m.lastReqBody, m.lastReqBody, m.lastRead - m.lastAnswerBody, m.lastAnswerBody
}

type countingConn struct {
	net.Conn
	m           *meter
	read, wrote atomic.Int64
	once        sync.Once
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	// Counted before the write: the answer can arrive, and the transport
	// close the connection, before this goroutine runs again.
	c.wrote.Add(int64(len(p)))
	n, err := c.Conn.Write(p)
	c.wrote.Add(int64(n - len(p)))
	return n, err
}

func (c *countingConn) Close() error {
	c.once.Do(func() {
		c.m.mu.Lock()
		c.m.lastWritten, c.m.lastRead = c.wrote.Load(), c.read.Load()
		c.m.mu.Unlock()
		c.m.closed.Add(1)
	})
	return c.Conn.Close()
}
