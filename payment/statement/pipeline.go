package statement

import (
	"errors"
	"io"
)

// The reading runs in two goroutines: a producer that decrypts and
// decompresses into a few buffers, and the caller's, which parses them.
// io.Pipe would hand each write over synchronously and, measured, keeps
// the two halves from overlapping; a small ring of buffers lets the
// producer run ahead while the parser works.
const (
	chunkSize  = 64 << 10
	chunkCount = 4
)

type chunk struct {
	b   []byte
	err error // the producer's end: io.EOF or why it stopped
}

// chunkPipe carries the plaintext CSV from the producer to the parser.
type chunkPipe struct {
	full  chan chunk
	empty chan []byte
	done  chan struct{} // closed by the parser to stop the producer
	cur   []byte        // the unread part of the chunk being read
	held  []byte        // that chunk's buffer, returned when it is used up
	err   error
}

func newChunkPipe() *chunkPipe {
	p := &chunkPipe{full: make(chan chunk, chunkCount), empty: make(chan []byte, chunkCount), done: make(chan struct{})}
	for i := 0; i < chunkCount; i++ {
		p.empty <- make([]byte, chunkSize)
	}
	return p
}

var errStopped = errors.New("statement: the reading was stopped")

// fill is the producer: it reads r into the buffers until r ends or the
// parser stops, and sends the end last.
func (p *chunkPipe) fill(r io.Reader) {
	err := p.copy(r)
	if err == errStopped {
		return
	}
	if err == nil {
		err = io.EOF
	}
	select {
	case p.full <- chunk{err: err}:
	case <-p.done:
	}
}

func (p *chunkPipe) copy(r io.Reader) error {
	for {
		var buf []byte
		select {
		case buf = <-p.empty:
		case <-p.done:
			return errStopped
		}
		// Fill the buffer; only io.EOF is the end (a gzip stream cut short
		// says io.ErrUnexpectedEOF, which is an error here).
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = r.Read(buf[n:])
			n += k
		}
		if n > 0 {
			select {
			case p.full <- chunk{b: buf[:n]}:
			case <-p.done:
				return errStopped
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Read is the parser's side.
func (p *chunkPipe) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		if p.held != nil {
			p.empty <- p.held[:cap(p.held)] // never blocks: it is one of chunkCount
			p.held = nil
		}
		c := <-p.full
		if c.err != nil {
			p.err = c.err
			continue
		}
		p.cur, p.held = c.b, c.b
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// stop tells the producer to end; Read must not be called after.
func (p *chunkPipe) stop() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
}
