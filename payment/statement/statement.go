package statement

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
)

// Statement reads one statement file as it streams in: it opens each
// segment, decompresses and parses the CSV into typed records, and hands a
// record out only once the segment that holds it has opened. Memory stays
// at a few segments whatever the file's size.
//
// A record is authentic where it stands, but the statement is complete —
// every line there, nothing added, the file the descriptor names — only
// when the iteration ended without an error and Complete reports true.
// Until then, treat what you read as provisional: a merchant that books
// from the records should do so in a transaction it commits only then.
//
// Decryption and decompression run in a goroutine of their own, up to four
// 64 KiB buffers ahead of the parser, so that the two halves of the work
// use two cores; the goroutine ends with the reading (or Close).
//
// A Statement is read once, by Trades or Ledger (or Verify), by one
// goroutine.
type Statement struct {
	d       Descriptor
	o       options
	raw     *rawReader
	seg     *segmentReader
	dl      *resumer           // nil unless made by Download
	cancel  context.CancelFunc // Download's: ends a network read on Close
	p       *lineParser
	started bool
	done    bool
	err     error

	// The producer: segments → gzip → pipe. It alone touches seg, raw and
	// dl once started; the consumer reads their state only after the
	// producer has returned.
	pipe     *chunkPipe
	produced chan struct{} // closed when the producer has returned
}

// Option tunes NewReader and Download.
type Option func(*options)

type options struct {
	raw     io.Writer
	csv     io.Writer
	retries int
	wait    time.Duration
}

// WithRawCopy copies every downloaded byte to w as it is read, for example
// into the file you keep as the day's statement. The copy is only
// trustworthy once the Statement reports Complete: delete it otherwise.
func WithRawCopy(w io.Writer) Option { return func(o *options) { o.raw = w } }

// WithCSVCopy copies the decompressed CSV to w as it is parsed. It comes
// only from segments that opened, but is only the whole statement once the
// Statement reports Complete.
func WithCSVCopy(w io.Writer) Option { return func(o *options) { o.csv = w } }

// NewReader reads a statement file from r (the bytes as downloaded, or a
// saved copy) with the file key (OpenKey) and the descriptor it belongs
// to. It reads nothing until Trades, Ledger or Verify is called.
func NewReader(r io.Reader, key []byte, d Descriptor, opts ...Option) (*Statement, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("statement: the file key must be %d bytes, not %d", keySize, len(key))
	}
	s := &Statement{d: d, p: newLineParser(&d)}
	for _, f := range opts {
		f(&s.o)
	}
	s.raw = newRawReader(r, s.o.raw, d.Size)
	var err error
	if s.seg, err = newSegmentReader(s.raw, key, &s.d); err != nil {
		return nil, err
	}
	return s, nil
}

// Descriptor is the descriptor the statement is checked against.
func (s *Statement) Descriptor() Descriptor { return s.d }

// Trades ranges over the lines of a TRADE statement, in the file's order
// (time, then trade_no, then refund_no):
//
//	for rec, err := range st.Trades() {
//		if err != nil { return err } // the statement is refused
//		...
//	}
//	// here st.Complete() is true
//
// An error is the last thing yielded. Stopping early leaves the statement
// incomplete.
func (s *Statement) Trades() iter.Seq2[TradeRecord, error] {
	return scan(s, Trade, 10, false, s.p.trade)
}

// Reconcile is Reconcile(st.Trades(), books, opts...) made cheaper: the
// statement's lines are read without a copy each, and only the ones the
// reconciliation keeps (waiting for their partner, or different) are
// copied. The result is the same.
func (s *Statement) Reconcile(books iter.Seq2[MerchantRecord, error], opts ...ReconcileOption) (*Report, error) {
	return reconcile(scan(s, Trade, 10, true, s.p.trade), books, true, opts)
}

// Ledger ranges over the lines of a LEDGER statement, in the file's order
// (time, then the order the movements happened), as Trades does.
func (s *Statement) Ledger() iter.Seq2[LedgerRecord, error] {
	return scan(s, Ledger, 7, false, s.p.ledger)
}

// Verify reads the whole statement, of either type, without handing out
// records: for a merchant that only keeps the file (WithRawCopy). It
// returns nil exactly when the statement is complete.
func (s *Statement) Verify() error {
	// The records are dropped at once, so they may borrow the read buffer.
	var err error
	if s.d.Type == Trade {
		for _, e := range scan(s, Trade, 10, true, s.p.trade) {
			err = e
		}
	} else {
		for _, e := range scan(s, Ledger, 7, true, s.p.ledger) {
			err = e
		}
	}
	return err
}

// Complete reports whether the statement was read to its end and passed
// every check: the last segment opened, nothing followed it, the size and
// SM3 of the bytes are the descriptor's, and so are the number of lines and
// the sum of the amounts.
func (s *Statement) Complete() bool { return s.done && s.err == nil }

// Err is the error that ended the reading, or nil.
func (s *Statement) Err() error { return s.err }

// Records is the number of data lines read so far, and AmountSum the sum
// of their amounts.
func (s *Statement) Records() int64 { return s.p.records }

// AmountSum is the sum of the amounts read so far, in fen.
func (s *Statement) AmountSum() int64 { return s.p.sum }

// Resumes is how many times Download reconnected with a Range request.
func (s *Statement) Resumes() int {
	if s.dl == nil {
		return 0
	}
	return int(s.dl.resumes.Load())
}

// Close stops the reading and releases the download's connection; the
// ranging loops call it when they end, so call it yourself only when you
// may not range at all. It waits for the reading goroutine, which for
// NewReader ends with the current Read of your reader.
func (s *Statement) Close() error {
	if s.pipe != nil {
		s.pipe.stop()
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.produced != nil {
		<-s.produced
	} else if s.dl != nil {
		s.dl.close()
	}
	return nil
}

// scan ranges over the records of a statement of type t. With borrow, a
// record's strings are views of the read buffer, good only until the next
// record: for Statement.Reconcile alone, which copies what it keeps.
func scan[R any](s *Statement, t Type, fields int, borrow bool, parse func([]string, int64, bool) (R, error)) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		var zero R
		defer s.Close() // also when the loop's body panics
		c, err := s.begin(t, borrow)
		if err != nil {
			yield(zero, err)
			return
		}
		for {
			f, line, clean, err := c.record(fields)
			if err == io.EOF {
				if err := s.end(); err != nil {
					yield(zero, err)
				}
				return
			}
			if err != nil {
				yield(zero, s.fail(err))
				return
			}
			rec, err := parse(f, line, clean)
			if err != nil {
				yield(zero, s.fail(err))
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// begin opens the gzip stream and checks the CSV header.
func (s *Statement) begin(t Type, borrow bool) (*csvReader, error) {
	if s.started {
		return nil, ErrRead
	}
	s.started = true
	if s.d.Type != t {
		return nil, s.stop(fmt.Errorf("statement: the descriptor is of a %s statement, not %s", s.d.Type, t))
	}
	s.pipe, s.produced = newChunkPipe(), make(chan struct{})
	go s.produce()
	var r io.Reader = s.pipe
	if s.o.csv != nil {
		r = io.TeeReader(s.pipe, csvCopy{s.o.csv})
	}
	c := newCSVReader(r)
	c.borrow = borrow
	header := tradeHeader
	if t == Ledger {
		header = ledgerHeader
	}
	if err := c.header(header); err != nil {
		return nil, s.fail(err)
	}
	return c, nil
}

// produce decrypts and decompresses into the pipe: its end (io.EOF or the
// error) is what the parser reads last.
func (s *Statement) produce() {
	defer close(s.produced)
	gz, err := gzip.NewReader(s.seg)
	switch err {
	case nil:
		s.pipe.fill(gz)
	case io.EOF:
		s.pipe.fill(errReader{errors.New("the plaintext is empty")})
	default:
		s.pipe.fill(errReader{err})
	}
	if s.dl != nil {
		s.dl.close()
	}
}

// errReader fails at once.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// end runs when the CSV has ended: the gzip stream ended cleanly, which it
// can only do once the segment reader answered io.EOF, that is after the
// last segment opened and the size and SM3 matched. What is left is the
// descriptor's count and sum.
func (s *Statement) end() error {
	<-s.produced
	switch {
	case !s.seg.last:
		return s.stop(fmt.Errorf("%w: the gzip stream ended before the last segment", ErrGzip))
	case s.p.records != s.d.Records:
		return s.stop(fmt.Errorf("%w: %d lines, the descriptor says %d", ErrRecords, s.p.records, s.d.Records))
	case s.p.sum != s.d.AmountSum:
		return s.stop(fmt.Errorf("%w: the amounts sum to %d, the descriptor says %d", ErrAmountSum, s.p.sum, s.d.AmountSum))
	}
	s.done = true
	s.Close()
	return nil
}

// fail records the error that ends the reading, naming its root cause: a
// gzip or CSV symptom of a segment that did not open (or of a download
// that broke) is reported as that cause; what is left of the errors out of
// the decompressor is the plaintext's own fault.
func (s *Statement) fail(err error) error {
	var cc csvCopyError
	if errors.As(err, &cc) || errors.Is(err, ErrCSV) || errors.Is(err, ErrRecords) || errors.Is(err, ErrAmountSum) {
		return s.stop(err) // the parser's own finding
	}
	// The producer's end, read through the pipe.
	<-s.produced
	if s.seg.err != nil {
		err = s.seg.err
	} else {
		err = fmt.Errorf("%w: %v", ErrGzip, err)
	}
	return s.stop(err)
}

// stop ends the reading with err.
func (s *Statement) stop(err error) error {
	s.err = err
	s.done = true
	s.Close()
	return err
}

// csvCopy is the WithCSVCopy writer, whose errors are told apart from the
// file's.
type csvCopy struct{ w io.Writer }

type csvCopyError struct{ err error }

func (e csvCopyError) Error() string { return "statement: writing the CSV copy: " + e.err.Error() }
func (e csvCopyError) Unwrap() error { return e.err }

func (c csvCopy) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		return n, csvCopyError{err}
	}
	return n, nil
}
