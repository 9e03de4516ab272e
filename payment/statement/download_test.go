package statement_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/payment/statement"
)

// fileServer serves one file with Range, and misbehaves as told per
// request (counted from 0).
type fileServer struct {
	file     []byte
	requests atomic.Int64
	mu       sync.Mutex
	ranges   []string
	// fault decides what request n does; nil serves it properly.
	fault func(n int64, r *http.Request) fault
}

type fault struct {
	cutAfter int64 // close the connection after this many body bytes (>0)
	reset    bool  // and do it with a TCP reset
	status   int   // answer this status instead
	flipAt   int64 // flip the file byte at this offset (>0)
	noRange  bool  // ignore Range
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1) - 1
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	var f fault
	if s.fault != nil {
		f = s.fault(n, r)
	}
	if f.status != 0 {
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}
	data := s.file
	if f.flipAt > 0 {
		data = bytes.Clone(data)
		data[f.flipAt] ^= 1
	}
	if f.noRange {
		r.Header.Del("Range")
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if f.cutAfter == 0 {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
		return
	}
	http.ServeContent(w, r, "", time.Time{}, &cutReader{r: bytes.NewReader(data), left: f.cutAfter})
	w.(http.Flusher).Flush()
	if f.reset {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// cutReader is a ReadSeeker that fails after left bytes have been read
// from the position ServeContent seeks to.
type cutReader struct {
	r    *bytes.Reader
	left int64
}

func (c *cutReader) Seek(off int64, whence int) (int64, error) { return c.r.Seek(off, whence) }

func (c *cutReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errors.New("cut")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func serve(t testing.TB, s *fileServer) *httptest.Server {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

func download(t testing.TB, srv *httptest.Server, b built, opts ...statement.Option) (*statement.Statement, error) {
	t.Helper()
	get := statement.HTTPGet(srv.Client(), statement.FileURL(srv.URL+"/", b.d.FileID))
	opts = append([]statement.Option{statement.WithRetryWait(time.Millisecond)}, opts...)
	return statement.Download(context.Background(), get, testKey, b.d, opts...)
}

// collect reads every record, returning them and the final error.
func collect(st *statement.Statement) ([]statement.TradeRecord, error) {
	var out []statement.TradeRecord
	for rec, err := range st.Trades() {
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// TestResumeAtManyOffsets cuts the first connection at offsets all over
// the file — in the header, on and around segment boundaries, in the last
// tag — with a short body and with a TCP reset: the download resumes once
// and reads exactly the file's records.
func TestResumeAtManyOffsets(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(9000))
	want, _, err := readTrades(t, b)
	require.NoError(t, err)
	size := int64(len(b.file))
	const seg = statement.SegmentSize + 16
	offsets := []int64{1, 3, 4, 11, 12, 13, 12 + seg - 1, 12 + seg, 12 + seg + 1, 12 + 2*seg, size / 2, size - 17, size - 1}
	for _, off := range offsets {
		for _, reset := range []bool{false, true} {
			t.Run(fmt.Sprintf("cut at %d reset %v", off, reset), func(t *testing.T) {
				t.Parallel()
				s := &fileServer{file: b.file, fault: func(n int64, _ *http.Request) fault {
					if n == 0 {
						return fault{cutAfter: off, reset: reset}
					}
					return fault{}
				}}
				st, err := download(t, serve(t, s), b)
				require.NoError(t, err)
				got, err := collect(st)
				require.NoError(t, err)
				require.True(t, st.Complete())
				require.Equal(t, len(want), len(got))
				require.Equal(t, want[len(want)-1].TradeNo, got[len(got)-1].TradeNo)
				require.Equal(t, 1, st.Resumes())
				require.Len(t, s.ranges, 2)
				require.Equal(t, "", s.ranges[0])
				if !reset {
					require.Equal(t, "bytes="+strconv.FormatInt(off, 10)+"-", s.ranges[1])
					return
				}
				// A reset discards what the client had not read yet: it
				// resumes from what it got, at most the cut.
				var from int64
				if s.ranges[1] != "" {
					_, err := fmt.Sscanf(s.ranges[1], "bytes=%d-", &from)
					require.NoError(t, err)
				}
				require.LessOrEqual(t, from, off)
			})
		}
	}
}

// TestResumeEveryFewKilobytes breaks every connection after 7000 bytes.
func TestResumeEveryFewKilobytes(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(5000))
	s := &fileServer{file: b.file, fault: func(int64, *http.Request) fault { return fault{cutAfter: 7000} }}
	n := len(b.file)/7000 + 1
	st, err := download(t, serve(t, s), b, statement.WithRetries(n))
	require.NoError(t, err)
	got, err := collect(st)
	require.NoError(t, err)
	require.Len(t, got, 5000)
	require.Equal(t, n-1, st.Resumes())

	// One reconnection fewer is not enough, and says so.
	s = &fileServer{file: b.file, fault: func(int64, *http.Request) fault { return fault{cutAfter: 7000} }}
	st, err = download(t, serve(t, s), b, statement.WithRetries(n-2))
	require.NoError(t, err)
	_, err = collect(st)
	require.ErrorIs(t, err, statement.ErrDownload)
	require.ErrorContains(t, err, "reconnections")
	require.False(t, st.Complete())
}

// TestResumeNeverHandsOutAChangedSegment: the resumed bytes differ from
// the first connection's (a changed byte in segment 2): the reader stops
// at segment 2, and every record it handed out before is the file's own.
func TestResumeNeverHandsOutAChangedSegment(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(9000))
	want, _, err := readTrades(t, b)
	require.NoError(t, err)
	const seg = statement.SegmentSize + 16
	cut := int64(12 + 2*seg + 100)
	s := &fileServer{file: b.file, fault: func(n int64, _ *http.Request) fault {
		if n == 0 {
			return fault{cutAfter: cut}
		}
		return fault{flipAt: cut + 5}
	}}
	st, err := download(t, serve(t, s), b)
	require.NoError(t, err)
	got, err := collect(st)
	var se *statement.SegmentError
	require.True(t, errors.As(err, &se), "%v", err)
	require.Equal(t, int64(2), se.Index)
	require.NotEmpty(t, got)
	require.Equal(t, want[:len(got)], got)
}

func TestDownloadAnswers(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(3000))
	cases := []struct {
		name  string
		fault func(n int64, r *http.Request) fault
		want  error
		early bool // Download itself fails
	}{
		{"unknown or expired", func(int64, *http.Request) fault { return fault{status: 404} }, statement.ErrExpired, true},
		{"expired while resuming", func(n int64, _ *http.Request) fault {
			if n == 0 {
				return fault{cutAfter: 5000}
			}
			return fault{status: 404}
		}, statement.ErrExpired, false},
		{"forbidden", func(int64, *http.Request) fault { return fault{status: 403} }, statement.ErrDownload, true},
		{"Range ignored", func(n int64, _ *http.Request) fault {
			if n == 0 {
				return fault{cutAfter: 5000}
			}
			return fault{noRange: true}
		}, statement.ErrDownload, false},
		{"503 twice, then served", func(n int64, _ *http.Request) fault {
			if n < 2 {
				return fault{status: 503}
			}
			return fault{}
		}, nil, false},
		{"503 for ever", func(int64, *http.Request) fault { return fault{status: 503} }, statement.ErrDownload, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st, err := download(t, serve(t, &fileServer{file: b.file, fault: c.fault}), b, statement.WithRetries(3))
			if c.early {
				require.ErrorIs(t, err, c.want)
				return
			}
			require.NoError(t, err)
			_, err = collect(st)
			if c.want == nil {
				require.NoError(t, err)
				require.True(t, st.Complete())
				return
			}
			require.ErrorIs(t, err, c.want)
		})
	}
}

// TestDownloadChecksHeaders uses a hand-written GetFunc to answer what a
// well-behaved server never would.
func TestDownloadChecksHeaders(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(3000))
	size := int64(len(b.file))
	resp := func(code int, body []byte, length int64, contentRange string) *http.Response {
		h := http.Header{}
		if contentRange != "" {
			h.Set("Content-Range", contentRange)
		}
		return &http.Response{StatusCode: code, Header: h, ContentLength: length, Body: io.NopCloser(bytes.NewReader(body))}
	}
	cases := map[string]statement.GetFunc{
		"no Content-Length": func(context.Context, int64) (*http.Response, error) {
			return resp(200, b.file, -1, ""), nil
		},
		"another Content-Length": func(context.Context, int64) (*http.Response, error) {
			return resp(200, b.file, size+1, ""), nil
		},
		"206 to a plain GET": func(context.Context, int64) (*http.Response, error) {
			return resp(206, b.file, size, "bytes 0-"+strconv.FormatInt(size-1, 10)+"/"+strconv.FormatInt(size, 10)), nil
		},
		"another Content-Range": func(_ context.Context, off int64) (*http.Response, error) {
			if off == 0 {
				return resp(200, b.file[:1000], size, ""), nil
			}
			return resp(206, b.file[off:], size-off, "bytes "+strconv.FormatInt(off+1, 10)+"-"+strconv.FormatInt(size-1, 10)+"/"+strconv.FormatInt(size, 10)), nil
		},
	}
	for name, get := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, err := statement.Download(context.Background(), get, testKey, b.d, statement.WithRetryWait(time.Millisecond))
			if err == nil {
				_, err = collect(st)
			}
			require.ErrorIs(t, err, statement.ErrDownload)
		})
	}
}

func TestDownloadHonoursContext(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(3000))
	ctx, cancel := context.WithCancel(context.Background())
	s := &fileServer{file: b.file, fault: func(n int64, _ *http.Request) fault {
		// Cancelled while the client waits to reconnect.
		time.AfterFunc(20*time.Millisecond, cancel)
		return fault{cutAfter: 5000}
	}}
	srv := serve(t, s)
	st, err := statement.Download(ctx, statement.HTTPGet(srv.Client(), statement.FileURL(srv.URL, b.d.FileID)), testKey, b.d,
		statement.WithRetryWait(time.Hour))
	require.NoError(t, err)
	start := time.Now()
	_, err = collect(st)
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), time.Second, "the wait ends with the context")
}
