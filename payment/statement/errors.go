package statement

import (
	"errors"
	"strconv"
)

// The ways a statement is refused. Every error of a Statement matches one of
// them with errors.Is, so that a caller can tell a broken download from a
// broken file; none of them is ever a complete statement.
var (
	// ErrDescriptor: the descriptor (the answer of bill/download) breaks a
	// field rule.
	ErrDescriptor = errors.New("statement: invalid descriptor")
	// ErrMagic: the file does not start with "EWB1".
	ErrMagic = errors.New("statement: not a statement file (the magic is not EWB1)")
	// ErrSegment: a segment does not open under the file key (a flipped
	// byte, segments out of place, another file's key or id). Its
	// *SegmentError says which.
	ErrSegment = errors.New("statement: a segment does not open")
	// ErrTruncated: the file ends before its last segment.
	ErrTruncated = errors.New("statement: the file ends before its last segment")
	// ErrTrailingData: bytes follow the last segment.
	ErrTrailingData = errors.New("statement: bytes after the last segment")
	// ErrSize: the file's length is not the descriptor's size.
	ErrSize = errors.New("statement: the file's size is not the descriptor's")
	// ErrSM3: the file's SM3 is not the descriptor's.
	ErrSM3 = errors.New("statement: the file's SM3 is not the descriptor's")
	// ErrGzip: the decrypted plaintext is not one valid gzip stream.
	ErrGzip = errors.New("statement: the plaintext is not valid gzip")
	// ErrCSV: a line breaks the CSV rules; its *CSVError says where.
	ErrCSV = errors.New("statement: invalid CSV")
	// ErrRecords: the number of data lines is not the descriptor's records.
	ErrRecords = errors.New("statement: the number of lines is not the descriptor's records")
	// ErrAmountSum: the sum of the amount column is not the descriptor's
	// amount_sum.
	ErrAmountSum = errors.New("statement: the amount column does not sum to the descriptor's amount_sum")
	// ErrExpired: the download URL answered HTTP 404: the file expired
	// (10 minutes after the descriptor) or was never there. Ask
	// bill/download again for a fresh descriptor.
	ErrExpired = errors.New("statement: file expired or unknown (HTTP 404): ask bill/download again")
	// ErrDownload: the download failed for another reason (an HTTP status,
	// a broken Range answer, or still broken after the retries).
	ErrDownload = errors.New("statement: download failed")
	// ErrRead: the statement was already read (a Statement is read once).
	ErrRead = errors.New("statement: already read")
)

// SegmentError names the segment that did not open. It matches ErrSegment.
type SegmentError struct {
	Index int64 // from 0
	Last  bool  // whether it was read as the last segment
}

// Error reads "statement: segment 1 does not open ...".
func (e *SegmentError) Error() string {
	s := "statement: segment " + strconv.FormatInt(e.Index, 10)
	if e.Last {
		s += " (the last)"
	}
	return s + " does not open: changed, out of place, or not under this file's key and id"
}

// Is matches ErrSegment.
func (e *SegmentError) Is(target error) bool { return target == ErrSegment }

// CSVError names the line (from 1, the header) and column of a CSV
// problem. It never holds the field's value. It matches ErrCSV.
type CSVError struct {
	Line   int64
	Column string // "" when the problem is the line as a whole
	Reason string
}

// Error reads "statement: CSV line 12 column amount: not an integer".
func (e *CSVError) Error() string {
	s := "statement: CSV line " + strconv.FormatInt(e.Line, 10)
	if e.Column != "" {
		s += " column " + e.Column
	}
	return s + ": " + e.Reason
}

// Is matches ErrCSV.
func (e *CSVError) Is(target error) bool { return target == ErrCSV }
