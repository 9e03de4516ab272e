package sandbox

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault kinds of statement downloads (section 11): they apply to the next
// Count downloads (GET {base}/bills/{file_id}), not to API calls.
const (
	// FaultBillCorrupt flips one byte inside a segment of the downloaded
	// file: the file's middle byte, in the bytes of that one download.
	FaultBillCorrupt = "bill_corrupt"
	// FaultBillTruncate closes the connection after half of the bytes the
	// download would carry.
	FaultBillTruncate = "bill_truncate"
)

func isBillFault(kind string) bool { return kind == FaultBillCorrupt || kind == FaultBillTruncate }

// billFile is a statement file on disk, downloadable until expires (real
// clock).
type billFile struct {
	path    string
	size    int64
	expires time.Time
}

// billStore holds the files of the descriptors answered in the last ten
// minutes, in a temporary directory of their own, and the faults queued
// for downloads. Files are written once and never changed, so every
// download of one is the same bytes.
type billStore struct {
	mu     sync.Mutex
	dir    string
	files  map[string]*billFile
	faults []*Fault
	closed bool
}

func newBillStore() *billStore { return &billStore{files: map[string]*billFile{}} }

// create opens a new file for a statement.
func (s *billStore) create() (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("the sandbox is closed")
	}
	if s.dir == "" {
		dir, err := os.MkdirTemp("", "ewallet-sandbox-bills-")
		if err != nil {
			return nil, err
		}
		s.dir = dir
	}
	return os.CreateTemp(s.dir, "bill-*.ewb")
}

// put makes a written file downloadable, and removes the expired ones.
func (s *billStore) put(id string, f *billFile, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if s.closed {
		_ = os.Remove(f.path)
		return
	}
	s.files[id] = f
}

// get returns the file of id unless it is unknown or expired.
func (s *billStore) get(id string, now time.Time) *billFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	if f := s.files[id]; f != nil && !f.expired(now) {
		return f
	}
	return nil
}

// sweep removes expired files. A file being downloaded stays readable
// through its open descriptor; where the system refuses to remove an open
// file, the next sweep tries again.
func (s *billStore) sweep(now time.Time) {
	for id, f := range s.files {
		if !now.Before(f.expires) {
			if err := os.Remove(f.path); err == nil || errors.Is(err, os.ErrNotExist) {
				delete(s.files, id)
			}
		}
	}
}

// expired reports whether id names a file that can no longer be served.
func (f *billFile) expired(now time.Time) bool { return !now.Before(f.expires) }

// close removes every file and the directory.
func (s *billStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.files = map[string]*billFile{}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// addFault queues a statement download fault.
func (s *billStore) addFault(f Fault) error {
	switch {
	case f.Count < 0:
		return errors.New("count must not be negative")
	case f.Path != "":
		return fmt.Errorf("path is not used by the %s kind: it applies to the next statement downloads", f.Kind)
	case f.Latency != 0:
		return fmt.Errorf("latency_ms is not used by the %s kind", f.Kind)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
	return nil
}

// takeFault consumes the fault of one download, in the order injected.
func (s *billStore) takeFault() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return ""
	}
	f := s.faults[0]
	if f.Count--; f.Count == 0 {
		s.faults[0] = nil
		s.faults = s.faults[1:]
	}
	return f.Kind
}

// serveBill is GET {base}/bills/{file_id}: the file as it was written, with
// Range (206) so that a broken download can resume, 404 for an unknown or
// expired id. No signature: the id is unguessable and the file is
// encrypted to the merchant.
func (b *Bank) serveBill(w http.ResponseWriter, r *http.Request, path string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	id := strings.TrimPrefix(path, "/bills/")
	f := b.bills.get(id, b.now())
	var file *os.File
	if f != nil {
		var err error
		if file, err = os.Open(f.path); err != nil {
			f = nil
		}
	}
	if f == nil {
		writeError(w, http.StatusNotFound, "no statement file with this id, or it expired (10 minutes after its descriptor): ask bill/download again")
		return
	}
	defer file.Close()

	var content io.ReadSeeker = file
	fault := ""
	if r.Method == http.MethodGet {
		fault = b.bills.takeFault()
	}
	switch fault {
	case FaultBillCorrupt:
		content = &flipReader{ReadSeeker: file, at: f.size / 2}
	case FaultBillTruncate:
		content = &cutReader{ReadSeeker: file, left: servedLength(r, f.size) / 2}
	}
	if fault != "" {
		b.log.Info("sandbox: statement download fault", "kind", fault)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", time.Time{}, content)
	if fault == FaultBillTruncate {
		// The body is shorter than its Content-Length: end the connection
		// so that the client sees it cut, as a broken network would.
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
}

// servedLength is how many bytes a GET will carry: the rest of the file
// for the "bytes=N-" a resume sends, else the whole file.
func servedLength(r *http.Request, size int64) int64 {
	v, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
	if !ok {
		return size
	}
	from, ok := strings.CutSuffix(v, "-")
	if !ok {
		return size
	}
	n, err := strconv.ParseInt(from, 10, 64)
	if err != nil || n < 0 || n >= size {
		return size
	}
	return size - n
}

// flipReader flips the byte at offset at.
type flipReader struct {
	io.ReadSeeker
	pos int64
	at  int64
}

func (f *flipReader) Seek(off int64, whence int) (int64, error) {
	p, err := f.ReadSeeker.Seek(off, whence)
	f.pos = p
	return p, err
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.ReadSeeker.Read(p)
	if f.at >= f.pos && f.at < f.pos+int64(n) {
		p[f.at-f.pos] ^= 0x01
	}
	f.pos += int64(n)
	return n, err
}

// cutReader ends with an error after left bytes.
type cutReader struct {
	io.ReadSeeker
	left int64
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errors.New("truncated (injected fault)")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.ReadSeeker.Read(p)
	c.left -= int64(n)
	return n, err
}
