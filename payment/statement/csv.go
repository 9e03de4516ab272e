package statement

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// The CSV of a statement (docs/protocol.md, "Statements"): RFC 4180, UTF-8
// without BOM, "\n" line ends (the last line too), a header line first, a
// field quoted only when it holds a comma, a quote or a line break. The
// reader is strict: encoding/csv would quietly accept "\r\n", a BOM, bare
// quotes in lazy mode and a last line without its end, none of which a
// conforming bank writes.

const (
	tradeHeader  = "time,type,out_trade_no,trade_no,out_refund_no,refund_no,account_no,payee_account_no,amount,status"
	ledgerHeader = "time,account_no,type,amount,balance_after,out_trade_no,out_refund_no"

	// maxLine bounds one record (a real line is under 300 bytes), so that a
	// file of one endless line cannot make the reader allocate without end.
	maxLine = 64 << 10
)

// csvReader splits the decompressed CSV into records. Every field of a
// record is a substring of one string allocated for the record, so a record
// costs one allocation however many fields it has — or none when borrow is
// set: then the fields of a plain line are views of the read buffer, valid
// only until the next record is read (Statement.Reconcile copies what it
// keeps).
type csvReader struct {
	br     *bufio.Reader
	borrow bool
	line   int64    // the last physical line read, from 1
	fields []string // reused between records
	quoted []byte   // scratch for a record with quotes
}

func newCSVReader(r io.Reader) *csvReader {
	return &csvReader{br: bufio.NewReaderSize(r, maxLine)}
}

// header reads the first line, which must be want exactly.
func (c *csvReader) header(want string) error {
	line, err := c.readLine()
	if err == io.EOF {
		return &CSVError{Line: 1, Reason: "the CSV is empty: the header line is missing"}
	}
	if err != nil {
		return err
	}
	if bytes.HasPrefix(line, []byte("\xef\xbb\xbf")) {
		return &CSVError{Line: 1, Reason: "starts with a UTF-8 byte order mark"}
	}
	if string(line[:len(line)-1]) != want {
		return &CSVError{Line: 1, Reason: "the header is not " + want}
	}
	return nil
}

// record returns the next record's fields, which must number n, or io.EOF
// after the last line. start is the line the record began on; clean says
// that the record is printable ASCII, so that its fields need no check for
// control characters.
func (c *csvReader) record(n int) (fields []string, start int64, clean bool, err error) {
	line, err := c.readLine()
	if err != nil {
		return nil, 0, false, err
	}
	start = c.line
	clean = c.splitPlain(line[:len(line)-1])
	switch {
	case clean:
		fields = c.fields
	case !utf8.Valid(line):
		return nil, start, false, &CSVError{Line: start, Reason: "is not valid UTF-8"}
	case bytes.IndexByte(line, '"') >= 0:
		fields, err = c.quotedRecord(line)
	default:
		fields, err = c.plainRecord(line)
	}
	if err != nil {
		return nil, start, false, err
	}
	if len(fields) != n {
		return nil, start, false, &CSVError{Line: start, Reason: "has " + itoa(int64(len(fields))) + " fields, want " + itoa(int64(n))}
	}
	return fields, start, clean, nil
}

// readLine returns the next physical line with its "\n", valid until the
// next read.
func (c *csvReader) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case err == nil:
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, &CSVError{Line: c.line + 1, Reason: "is longer than 64 KiB"}
	case err == io.EOF:
		if len(line) == 0 {
			return nil, io.EOF
		}
		return nil, &CSVError{Line: c.line + 1, Reason: `the last line does not end with "\n"`}
	default:
		return nil, err
	}
	c.line++
	return line, nil
}

// special marks the bytes that take a line off the fast path: controls
// (the line's own "\n" aside), quotes and anything beyond ASCII.
var special = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t[0x7f] = true, true
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

// splitPlain splits a line (without its "\n") at its commas in one pass,
// if it is printable ASCII without quotes — by far the common case, which
// then needs no other check. It reports false, having split nothing, for
// any other line. Eight bytes are looked at a time.
func (c *csvReader) splitPlain(line []byte) bool {
	var cuts [16]int // comma positions; a statement line has at most 9
	n := 0
	i := 0
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		if specialByte(x) {
			return false
		}
		for m := zeroBytes(x ^ (ones * ',')); m != 0; m &= m - 1 {
			if n == len(cuts) {
				return false // far too many fields: the slow path says so
			}
			cuts[n] = i + bits.TrailingZeros64(m)/8
			n++
		}
	}
	for ; i < len(line); i++ {
		b := line[i]
		if special[b] {
			return false
		}
		if b == ',' {
			if n == len(cuts) {
				return false
			}
			cuts[n] = i
			n++
		}
	}
	var s string
	if c.borrow {
		s = unsafe.String(unsafe.SliceData(line), len(line))
	} else {
		s = string(line)
	}
	f := c.fields[:0]
	prev := 0
	for _, cut := range cuts[:n] {
		f = append(f, s[prev:cut])
		prev = cut + 1
	}
	c.fields = append(f, s[prev:])
	return true
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
	lows  = 0x7f7f7f7f7f7f7f7f
)

// zeroBytes has the high bit set in exactly the bytes of x that are zero
// (no borrow runs from one byte into the next).
func zeroBytes(x uint64) uint64 { return ^(((x & lows) + lows) | x | lows) }

// specialByte reports whether any byte of x is special: below 0x20, a
// quote, DEL, or beyond ASCII.
func specialByte(x uint64) bool {
	below := ^((x & lows) + ones*(0x80-0x20)) & highs // < 0x20, for bytes < 0x80
	return (x&highs)|below|zeroBytes(x^(ones*'"'))|zeroBytes(x^(ones*0x7f)) != 0
}

// plainRecord splits a line without quotes that holds other bytes than
// printable ASCII.
func (c *csvReader) plainRecord(line []byte) ([]string, error) {
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, &CSVError{Line: c.line, Reason: `holds a carriage return: lines end with "\n" alone`}
	}
	s := string(line[:len(line)-1])
	f := c.fields[:0]
	for {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			f = append(f, s)
			break
		}
		f = append(f, s[:i])
		s = s[i+1:]
	}
	c.fields = f
	return f, nil
}

// quotedRecord parses a record with at least one quote by RFC 4180: a
// quoted field may hold commas, doubled quotes and line breaks (so the
// record may go on over more lines); a quote anywhere else is an error.
func (c *csvReader) quotedRecord(first []byte) ([]string, error) {
	start := c.line
	rec := append(c.quoted[:0], first...)
	var out []byte // the unescaped fields, one after the other
	var ends []int // where each field ends in out
	i := 0
	for {
		// At the start of a field.
		if i < len(rec) && rec[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(rec[i:], '"')
				if j < 0 {
					// The quoted field goes on over the next line.
					out = append(out, rec[i:]...)
					i = len(rec)
					more, err := c.readLine()
					if err == io.EOF {
						return nil, &CSVError{Line: start, Reason: "a quoted field is not closed before the end of the file"}
					}
					if err != nil {
						return nil, err
					}
					if !utf8.Valid(more) {
						return nil, &CSVError{Line: start, Reason: "is not valid UTF-8"}
					}
					if len(rec)+len(more) > maxLine {
						return nil, &CSVError{Line: start, Reason: "is longer than 64 KiB"}
					}
					rec = append(rec, more...)
					continue
				}
				out = append(out, rec[i:i+j]...)
				i += j + 1
				if i < len(rec) && rec[i] == '"' {
					out = append(out, '"')
					i++
					continue
				}
				break
			}
			if i >= len(rec) || (rec[i] != ',' && rec[i] != '\n') {
				return nil, &CSVError{Line: start, Reason: "a closing quote is followed by something other than a comma or the line end"}
			}
		} else {
			for i < len(rec) && rec[i] != ',' && rec[i] != '\n' {
				switch rec[i] {
				case '"':
					return nil, &CSVError{Line: start, Reason: "a quote inside a field that does not start with one"}
				case '\r':
					return nil, &CSVError{Line: start, Reason: `holds a carriage return: lines end with "\n" alone`}
				}
				out = append(out, rec[i])
				i++
			}
		}
		ends = append(ends, len(out))
		if rec[i] == '\n' {
			if i != len(rec)-1 {
				return nil, &CSVError{Line: start, Reason: "a line break outside quotes inside the record"}
			}
			break
		}
		i++ // the comma
	}
	c.quoted = rec[:0]
	s := string(out)
	f := c.fields[:0]
	prev := 0
	for _, e := range ends {
		f = append(f, s[prev:e])
		prev = e
	}
	c.fields = f
	return f, nil
}

// parseInt reads an integer strictly: an optional "-", then "0" or digits
// without a leading zero, in the range of int64.
func parseInt(s string) (int64, bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 19 || (s[0] == '0' && len(s) > 1) || (neg && s == "0") {
		return 0, false
	}
	var u uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// parseClock reads HH:mm:ss into seconds since midnight.
func parseClock(s string) (int64, bool) {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' {
		return 0, false
	}
	h, ok1 := twoDigits(s[0], s[1])
	m, ok2 := twoDigits(s[3], s[4])
	sec, ok3 := twoDigits(s[6], s[7])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return 0, false
	}
	return int64(h*3600 + m*60 + sec), true
}

func twoDigits(a, b byte) (int, bool) {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
