package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault kinds for InjectFault and POST /sandbox/faults (section 11).
const (
	// FaultLatency delays the call by Fault.Latency before the bank acts.
	FaultLatency = "latency"
	// FaultHTTP503 answers HTTP 503 without acting.
	FaultHTTP503 = "http_503"
	// FaultDropBeforeCommit closes the connection before the bank acts.
	FaultDropBeforeCommit = "drop_before_commit"
	// FaultDropAfterCommit acts (moves money, remembers the msg_id) and then
	// closes the connection without an answer; a retry with the same msg_id
	// gets the original result.
	FaultDropAfterCommit = "drop_after_commit"
	// FaultBadSignature acts and answers with a corrupted signature.
	FaultBadSignature = "bad_signature"
)

// defaultFaultLatency is the delay of a latency fault that names none.
const defaultFaultLatency = time.Second

// Fault makes the next Count API calls (to Path only, when set, e.g.
// "/api/v1/payment/pay") misbehave as Kind says. A call takes at most one
// latency fault and one of the other kinds, in the order they were
// injected, so that a delay can be combined with a drop.
type Fault struct {
	Kind    string
	Count   int           // default 1
	Path    string        // "" for any API
	Latency time.Duration // FaultLatency only; default 1 s
}

// faultSet is the queue of pending faults.
type faultSet struct {
	mu   sync.Mutex
	list []*Fault
}

// normalizeFault validates f and fills its defaults. known says whether a
// path is an API of the bank.
func normalizeFault(f Fault, known func(string) bool) (Fault, error) {
	switch f.Kind {
	case FaultLatency, FaultHTTP503, FaultDropBeforeCommit, FaultDropAfterCommit, FaultBadSignature:
	default:
		return f, fmt.Errorf("kind must be one of %s, %s, %s, %s, %s, %s, %s", FaultLatency, FaultHTTP503,
			FaultDropBeforeCommit, FaultDropAfterCommit, FaultBadSignature, FaultBillCorrupt, FaultBillTruncate)
	}
	if f.Count < 0 {
		return f, errors.New("count must not be negative")
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.Path != "" {
		if !strings.HasPrefix(f.Path, "/") {
			f.Path = "/api/v1/" + f.Path
		}
		if !known(f.Path) {
			return f, fmt.Errorf("path %q is not an API of the bank", f.Path)
		}
	}
	if f.Latency < 0 {
		return f, errors.New("latency must not be negative")
	}
	if f.Kind == FaultLatency && f.Latency == 0 {
		f.Latency = defaultFaultLatency
	}
	return f, nil
}

func (s *faultSet) add(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, &f)
}

// take consumes the faults that apply to one call to path.
func (s *faultSet) take(path string) (latency time.Duration, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.list) == 0 {
		return 0, ""
	}
	kept := s.list[:0]
	for _, f := range s.list {
		if f.Path == "" || f.Path == path {
			switch {
			case f.Kind == FaultLatency && latency == 0:
				latency = f.Latency
				f.Count--
			case f.Kind != FaultLatency && kind == "":
				kind = f.Kind
				f.Count--
			}
		}
		if f.Count > 0 {
			kept = append(kept, f)
		}
	}
	clear(s.list[len(kept):])
	s.list = kept
	return latency, kind
}

// drop ends the exchange without an HTTP answer: the connection is closed
// under the client, which sees a transport error and cannot know whether
// the bank acted. Without a hijackable connection (HTTP/2, a recorder) the
// handler aborts with http.ErrAbortHandler, which net/http turns into a
// reset stream or closed connection.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
