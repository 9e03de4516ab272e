package sandbox

import (
	"bufio"
	"compress/gzip"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/xinyun-open/ewallet-go/internal/envelope"
)

// The statement file of docs/protocol.md ("Statements"), written as a
// stream: CSV lines → gzip → 64 KiB segments sealed with SM4-GCM → the
// file, with the size and SM3 of what was written and the count and sum of
// the lines. Memory is one segment and gzip's window, whatever the day's
// size. The SDK's reader is not used here, nor anything of the client:
// the two sides are written from the protocol separately.
const (
	billMagic       = "EWB1"
	billSegmentSize = 65536
	billPrefixSize  = 8
)

// billSealer seals gzip's output into segments as it is written.
type billSealer struct {
	w      io.Writer
	aead   cipher.AEAD
	nonce  [envelope.NonceSize]byte
	aad    []byte // file_id ‖ flag
	buf    []byte // plaintext of the segment being filled
	index  uint32
	h      hash.Hash
	n      int64
	err    error
	header bool
}

func newBillSealer(w io.Writer, key []byte, fileID string, prefix []byte) (*billSealer, error) {
	aead, err := envelope.NewGCM(key)
	if err != nil {
		return nil, err
	}
	s := &billSealer{w: w, aead: aead, aad: append([]byte(fileID), 0), h: sm3.New(),
		buf: make([]byte, 0, billSegmentSize+envelope.TagSize)}
	copy(s.nonce[:billPrefixSize], prefix)
	return s, nil
}

func (s *billSealer) out(p []byte) {
	if s.err != nil {
		return
	}
	s.h.Write(p)
	s.n += int64(len(p))
	_, s.err = s.w.Write(p)
}

func (s *billSealer) Write(p []byte) (int, error) {
	if !s.header {
		s.header = true
		s.out([]byte(billMagic))
		s.out(s.nonce[:billPrefixSize])
	}
	n := len(p)
	for len(p) > 0 && s.err == nil {
		k := min(len(p), billSegmentSize-len(s.buf))
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		// A full segment is never the last: the last is shorter, empty
		// when the plaintext is an exact multiple of the segment size.
		if len(s.buf) == billSegmentSize {
			s.seal(false)
		}
	}
	return n, s.err
}

func (s *billSealer) seal(last bool) {
	binary.BigEndian.PutUint32(s.nonce[billPrefixSize:], s.index)
	s.index++
	s.aad[len(s.aad)-1] = 0x00
	if last {
		s.aad[len(s.aad)-1] = 0x01
	}
	s.out(s.aead.Seal(s.buf[:0], s.nonce[:], s.buf, s.aad))
	s.buf = s.buf[:0]
}

// close seals the last segment.
func (s *billSealer) close() error {
	if !s.header {
		if _, err := s.Write(nil); err != nil {
			return err
		}
	}
	s.seal(true)
	return s.err
}

func (s *billSealer) sum() string { return hex.EncodeToString(s.h.Sum(nil)) }

// billWriter writes the CSV of a statement into a sealer and keeps its
// count and sum. A line is built field by field (str, num, time) and ended
// with end.
type billWriter struct {
	sealer  *billSealer
	zw      *gzip.Writer
	bw      *bufio.Writer
	line    []byte
	fields  int
	records int64
	sum     int64
	// The last time written, as lines come in time order and many share
	// a second.
	lastSec  int64
	lastTime string
}

func newBillWriter(dst io.Writer, key []byte, fileID string, prefix []byte, header string) (*billWriter, error) {
	bw := bufio.NewWriterSize(dst, 1<<20)
	s, err := newBillSealer(bw, key, fileID, prefix)
	if err != nil {
		return nil, err
	}
	// BestSpeed: the sandbox makes a day of a million lines within a
	// client's timeout; the format does not care how hard gzip tried.
	zw, err := gzip.NewWriterLevel(s, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	w := &billWriter{sealer: s, zw: zw, bw: bw, lastSec: -1}
	_, err = w.zw.Write([]byte(header + "\n"))
	return w, err
}

func (w *billWriter) sep() {
	if w.fields > 0 {
		w.line = append(w.line, ',')
	}
	w.fields++
}

// str adds a text field.
func (w *billWriter) str(f string) {
	w.sep()
	w.line = appendCSVField(w.line, f)
}

// num adds an integer field.
func (w *billWriter) num(n int64) {
	w.sep()
	w.line = strconv.AppendInt(w.line, n, 10)
}

// time adds a protocol time.
func (w *billWriter) time(t time.Time) {
	if sec := t.Unix(); sec != w.lastSec {
		w.lastSec, w.lastTime = sec, formatTime(t)
	}
	w.str(w.lastTime)
}

// end finishes the line, whose amount column holds amount.
func (w *billWriter) end(amount int64) error {
	w.line = append(w.line, '\n')
	w.records++
	w.sum += amount
	_, err := w.zw.Write(w.line)
	w.line, w.fields = w.line[:0], 0
	return err
}

// close ends the gzip stream, seals the last segment and flushes.
func (w *billWriter) close() error {
	if err := w.zw.Close(); err != nil {
		return err
	}
	if err := w.sealer.close(); err != nil {
		return err
	}
	return w.bw.Flush()
}

// appendCSVField quotes a field only when it holds a comma, a quote or a
// line break (RFC 4180), doubling its quotes.
func appendCSVField(b []byte, f string) []byte {
	if !strings.ContainsAny(f, ",\"\r\n") {
		return append(b, f...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(f, `"`, `""`)...)
	return append(b, '"')
}
