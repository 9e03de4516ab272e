package statement

import (
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"

	"github.com/emmansun/gmsm/sm3"

	"github.com/xinyun-open/ewallet-go/internal/envelope"
)

// The file format (docs/protocol.md, "Statements"): "EWB1" ‖ an 8-byte
// nonce prefix ‖ segments. The gzip plaintext is cut into segments of
// exactly SegmentSize bytes, the last one shorter (empty when the plaintext
// is an exact multiple); each is sealed with SM4-GCM under the file key,
// nonce = prefix ‖ uint32 big-endian index, AAD = file_id ‖ 0x01 for the
// last segment and 0x00 for the others, and written as ciphertext ‖ tag.
const (
	// Magic opens every statement file.
	Magic = "EWB1"
	// SegmentSize is the plaintext size of every segment but the last.
	SegmentSize = 65536

	prefixSize  = 8
	headerSize  = len(Magic) + prefixSize
	tagSize     = envelope.TagSize
	sealedSize  = SegmentSize + tagSize
	keySize     = envelope.KeySize
	flagLast    = 0x01
	flagNotLast = 0x00
)

// segmentReader turns the downloaded bytes into the plaintext of the
// segments that opened, one segment at a time: memory is one sealed
// segment, whatever the file's size. Before it answers io.EOF it has opened
// the last segment and checked that nothing follows it and that the size
// and SM3 of everything read are the descriptor's; any failure is sticky.
type segmentReader struct {
	src   *rawReader
	d     *Descriptor
	aead  cipher.AEAD
	nonce [envelope.NonceSize]byte
	aad   []byte // file_id ‖ flag
	index int64  // of the next segment
	buf   []byte // one sealed segment; its plaintext is opened in place
	plain []byte // the unread plaintext of the current segment
	last  bool   // the last segment has opened and the file checked out
	err   error
}

func newSegmentReader(src *rawReader, key []byte, d *Descriptor) (*segmentReader, error) {
	aead, err := envelope.NewGCM(key)
	if err != nil {
		return nil, fmt.Errorf("statement: file key: %w", err)
	}
	s := &segmentReader{src: src, d: d, aead: aead, buf: make([]byte, sealedSize)}
	s.aad = append([]byte(d.FileID), flagNotLast)
	return s, nil
}

// Read hands out plaintext of opened segments only.
func (s *segmentReader) Read(p []byte) (int, error) {
	for len(s.plain) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.last {
			return 0, io.EOF
		}
		s.err = s.next()
	}
	n := copy(p, s.plain)
	s.plain = s.plain[n:]
	return n, nil
}

// next reads and opens one segment: a full one is never the last, a short
// one always is (an exact multiple of SegmentSize ends with an empty one).
func (s *segmentReader) next() error {
	if s.index == 0 {
		if err := s.header(); err != nil {
			return err
		}
	}
	n, err := io.ReadFull(s.src, s.buf)
	switch {
	case err == io.EOF:
		return fmt.Errorf("%w: %d segments, none of them the last", ErrTruncated, s.index)
	case err == io.ErrUnexpectedEOF:
		// A short read: this is the last segment.
	case err != nil:
		return err
	}
	last := n < sealedSize
	if last && n < tagSize {
		return fmt.Errorf("%w: the file ends inside segment %d", ErrTruncated, s.index)
	}
	if s.index > math.MaxUint32 {
		return fmt.Errorf("%w: more than 2^32 segments", ErrSize)
	}
	binary.BigEndian.PutUint32(s.nonce[prefixSize:], uint32(s.index))
	s.aad[len(s.aad)-1] = flagNotLast
	if last {
		s.aad[len(s.aad)-1] = flagLast
	}
	// Segments open in place, but the last one into its own buffer: a
	// failed open wipes its output, and opensShorter needs the ciphertext.
	dst := s.buf[:0]
	if last {
		dst = make([]byte, 0, n)
	}
	pt, err := s.aead.Open(dst, s.nonce[:], s.buf[:n], s.aad)
	if err != nil {
		if last && s.src.n < s.d.Size {
			// Cut inside a segment: a short read of a segment sealed as
			// not the last cannot open as the last.
			return fmt.Errorf("%w: the file ends at byte %d of %d, inside segment %d", ErrTruncated, s.src.n, s.d.Size, s.index)
		}
		if last && s.opensShorter(n) {
			return fmt.Errorf("%w: the last segment (%d) opens without the file's final bytes", ErrTrailingData, s.index)
		}
		return &SegmentError{Index: s.index, Last: last}
	}
	s.index++
	if last {
		if err := s.finish(); err != nil {
			return err
		}
		s.last = true
	}
	s.plain = pt
	return nil
}

// maxTrailing is how many stray bytes after the last segment the reader
// recognises as such: a stream reader finds the last segment's end only at
// the end of the file, so bytes appended to it make it fail to open. A few
// (a newline or a NUL from a text-mode copy) are named as trailing bytes;
// more read as a segment that does not open. Both are refusals.
const maxTrailing = 64

// opensShorter reports whether the last segment, n bytes as read, opens
// when up to maxTrailing bytes are cut off its end. It runs only on a
// segment that failed, so its cost is no concern of a good file.
func (s *segmentReader) opensShorter(n int) bool {
	scratch := make([]byte, 0, n)
	for k := 1; k <= maxTrailing && n-k >= tagSize; k++ {
		if _, err := s.aead.Open(scratch, s.nonce[:], s.buf[:n-k], s.aad); err == nil {
			return true
		}
	}
	return false
}

// header checks the magic and takes the nonce prefix.
func (s *segmentReader) header() error {
	var h [headerSize]byte
	n, err := io.ReadFull(s.src, h[:])
	if n >= len(Magic) && string(h[:len(Magic)]) != Magic {
		return ErrMagic
	}
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if n < len(Magic) {
			return fmt.Errorf("%w: %d bytes, shorter than the magic", ErrTruncated, n)
		}
		return fmt.Errorf("%w: the file ends inside its nonce prefix", ErrTruncated)
	case err != nil:
		return err
	}
	copy(s.nonce[:prefixSize], h[len(Magic):])
	return nil
}

// finish runs once the last segment has opened: nothing may follow it, and
// the bytes read must be the descriptor's in number and SM3.
func (s *segmentReader) finish() error {
	var one [1]byte
	n, err := io.ReadFull(s.src, one[:])
	if n > 0 {
		return fmt.Errorf("%w: after segment %d, the last", ErrTrailingData, s.index-1)
	}
	if err != io.EOF {
		return err
	}
	if s.src.n != s.d.Size {
		return fmt.Errorf("%w: %d bytes, the descriptor says %d", ErrSize, s.src.n, s.d.Size)
	}
	if got := hex.EncodeToString(s.src.h.Sum(nil)); got != s.d.SM3 {
		return ErrSM3
	}
	return nil
}

// rawReader reads the downloaded bytes: it counts them, hashes them with
// SM3, copies them to the caller's tee, and refuses to read more than one
// byte beyond the descriptor's size (enough to tell trailing bytes), so that
// a server that never stops cannot keep the reader busy.
type rawReader struct {
	r     io.Reader
	tee   io.Writer
	h     hash.Hash
	n     int64
	limit int64
}

func newRawReader(r io.Reader, tee io.Writer, size int64) *rawReader {
	return &rawReader{r: r, tee: tee, h: sm3.New(), limit: size + 1}
}

func (r *rawReader) Read(p []byte) (int, error) {
	if r.n >= r.limit {
		return 0, fmt.Errorf("%w: the file is longer than the descriptor's %d bytes", ErrSize, r.limit-1)
	}
	if int64(len(p)) > r.limit-r.n {
		p = p[:r.limit-r.n]
	}
	n, err := r.r.Read(p)
	if n > 0 {
		r.n += int64(n)
		r.h.Write(p[:n])
		if r.tee != nil {
			if _, werr := r.tee.Write(p[:n]); werr != nil {
				return n, fmt.Errorf("statement: writing the raw copy: %w", werr)
			}
		}
	}
	return n, err
}
