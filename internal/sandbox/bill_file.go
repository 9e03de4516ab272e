package sandbox

import (
	"bufio"
	"compress/gzip"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"strings"

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
// count and sum.
type billWriter struct {
	sealer  *billSealer
	zw      *gzip.Writer
	bw      *bufio.Writer
	line    []byte
	records int64
	sum     int64
}

func newBillWriter(dst io.Writer, key []byte, fileID string, prefix []byte, header string) (*billWriter, error) {
	bw := bufio.NewWriterSize(dst, 1<<20)
	s, err := newBillSealer(bw, key, fileID, prefix)
	if err != nil {
		return nil, err
	}
	w := &billWriter{sealer: s, zw: gzip.NewWriter(s), bw: bw}
	_, err = w.zw.Write([]byte(header + "\n"))
	return w, err
}

// row writes one data line of fields, amount being the value of its
// amount column.
func (w *billWriter) row(amount int64, fields ...string) error {
	w.line = w.line[:0]
	for i, f := range fields {
		if i > 0 {
			w.line = append(w.line, ',')
		}
		w.line = appendCSVField(w.line, f)
	}
	w.line = append(w.line, '\n')
	w.records++
	w.sum += amount
	_, err := w.zw.Write(w.line)
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
