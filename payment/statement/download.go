package statement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// GetFunc fetches the statement file from byte offset on: offset 0 is a
// plain GET of {base}/bills/{file_id}, any other offset carries
// "Range: bytes=offset-". It returns the server's response as it is;
// Download checks it and closes its body.
type GetFunc func(ctx context.Context, offset int64) (*http.Response, error)

// HTTPGet is the GetFunc of an http.Client for the file's URL (FileURL).
// The download has no signature (docs/protocol.md, "Statements"): the id
// is unguessable and the file is encrypted to the merchant.
func HTTPGet(c *http.Client, url string) GetFunc {
	return func(ctx context.Context, offset int64) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		if offset > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		}
		// The file is already compressed and encrypted; a transport that
		// decompressed a gzip Content-Encoding on the fly would also shift
		// the byte offsets a resume counts on.
		req.Header.Set("Accept-Encoding", "identity")
		return c.Do(req)
	}
}

// Retry defaults of Download.
const (
	defaultRetries = 8
	defaultWait    = 100 * time.Millisecond
	maxWait        = 2 * time.Second
)

// WithRetries bounds how many times Download reconnects (after a broken
// connection, a transport error or HTTP 429/502/503/504) over the whole
// download; default 8. 0 makes any break an error.
func WithRetries(n int) Option { return func(o *options) { o.retries = max(n, 0) } }

// WithRetryWait is the wait before a reconnection, doubled for each next
// one that follows a connection that brought nothing, up to 2 s; default
// 100 ms.
func WithRetryWait(d time.Duration) Option { return func(o *options) { o.wait = max(d, 0) } }

// Download fetches the file of d with get and returns the Statement that
// reads it as it streams in. The first request is made here, so that an
// expired file (ErrExpired) or a refused download is an error at once.
//
// When the connection breaks — a reset, a short body, an unexpected EOF —
// Download asks again from the first missing byte ("Range: bytes=N-",
// which must answer 206 with the matching Content-Range), within the
// WithRetries bound; the reader sees one unbroken stream and the merchant
// no error. The first answer must be 200 with Content-Length equal to the
// descriptor's size. Records are handed out only from segments that opened,
// whatever the network did.
//
// Close the Statement when you may stop before the end.
func Download(ctx context.Context, get GetFunc, key []byte, d Descriptor, opts ...Option) (*Statement, error) {
	o := options{retries: defaultRetries, wait: defaultWait}
	for _, f := range opts {
		f(&o)
	}
	ctx, cancel := context.WithCancel(ctx)
	dl := &resumer{ctx: ctx, get: get, size: d.Size, max: o.retries, wait: o.wait}
	s, err := NewReader(dl, key, d, opts...)
	if err != nil {
		cancel()
		return nil, err
	}
	if err := dl.connect(); err != nil {
		cancel()
		return nil, err
	}
	s.dl, s.cancel = dl, cancel
	return s, nil
}

// resumer is one unbroken stream of the file's bytes over as many HTTP
// responses as it takes.
type resumer struct {
	ctx     context.Context
	get     GetFunc
	size    int64
	off     int64 // bytes handed on so far
	body    io.ReadCloser
	max     int
	wait    time.Duration
	resumes atomic.Int32 // reconnections so far (read by Statement.Resumes)
	failing int          // reconnections in a row that brought no byte
	from    int64        // r.off when the current connection was made
	tried   bool         // the first request was made
	lastErr error        // why the last connection ended, for the final error
	err     error        // sticky: the stream is over
}

var errClosed = errors.New("statement: the download was closed")

func (r *resumer) Read(p []byte) (int, error) {
	for {
		if r.err != nil {
			return 0, r.err
		}
		if r.body == nil {
			if err := r.connect(); err != nil {
				return 0, err
			}
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		switch {
		case err == nil:
		case r.off >= r.size:
			// Everything arrived (a reset after the last byte changes
			// nothing); whether it is right is for the file checks to say.
			return n, io.EOF
		default:
			// A short body or a broken connection: reconnect on the next
			// Read, and hand on what did arrive first.
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			r.drop(err)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// connect makes the next request: the first, or a resume from r.off.
func (r *resumer) connect() error {
	for {
		if r.tried {
			if int(r.resumes.Load()) >= r.max {
				return r.end(fmt.Errorf("%w: broken at byte %d of %d, %d reconnections did not finish it: %v",
					ErrDownload, r.off, r.size, r.resumes.Load(), r.lastErr))
			}
			r.resumes.Add(1)
			// The wait doubles while reconnecting brings nothing, and
			// starts over once a connection carried bytes.
			if r.off > r.from {
				r.failing = 0
			}
			r.from = r.off
			t := time.NewTimer(min(r.wait<<min(r.failing, 16), maxWait))
			r.failing++
			select {
			case <-t.C:
			case <-r.ctx.Done():
				t.Stop()
				return r.end(fmt.Errorf("%w: %w", ErrDownload, r.ctx.Err()))
			}
		}
		r.tried = true
		resp, err := r.get(r.ctx, r.off)
		if err != nil {
			if r.ctx.Err() != nil {
				return r.end(fmt.Errorf("%w: %w", ErrDownload, r.ctx.Err()))
			}
			r.lastErr = err
			continue
		}
		if err := r.check(resp); err != nil {
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
				r.lastErr = err
				continue
			}
			return r.end(err)
		}
		r.body = resp.Body
		return nil
	}
}

// check is the answer's status and length: 200 with the whole file first,
// 206 with exactly the rest of it on a resume.
func (r *resumer) check(resp *http.Response) error {
	code := resp.StatusCode
	if code == http.StatusNotFound {
		return ErrExpired
	}
	if r.off == 0 {
		if code != http.StatusOK {
			return fmt.Errorf("%w: HTTP %d", ErrDownload, code)
		}
		if resp.ContentLength != r.size {
			return fmt.Errorf("%w: Content-Length %d, the descriptor's size is %d", ErrDownload, resp.ContentLength, r.size)
		}
		return nil
	}
	switch code {
	case http.StatusPartialContent:
	case http.StatusOK:
		return fmt.Errorf("%w: the server ignored the Range of a resume (HTTP 200)", ErrDownload)
	default:
		return fmt.Errorf("%w: HTTP %d to a resume from byte %d", ErrDownload, code, r.off)
	}
	want := "bytes " + strconv.FormatInt(r.off, 10) + "-" + strconv.FormatInt(r.size-1, 10) + "/" + strconv.FormatInt(r.size, 10)
	if got := resp.Header.Get("Content-Range"); got != want {
		return fmt.Errorf("%w: a resume answered Content-Range %q, want %q", ErrDownload, got, want)
	}
	if resp.ContentLength != r.size-r.off {
		return fmt.Errorf("%w: a resume answered Content-Length %d, want %d", ErrDownload, resp.ContentLength, r.size-r.off)
	}
	return nil
}

func (r *resumer) drop(err error) {
	r.lastErr = err
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

func (r *resumer) end(err error) error {
	r.drop(err)
	r.err = err
	return err
}

func (r *resumer) close() {
	if r.err == nil {
		r.end(errClosed)
	}
}
