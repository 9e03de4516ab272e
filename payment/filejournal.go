package payment

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
)

// FileJournal is the embedded Journal: an append-only file of JSON lines,
// each written and synced (fsync) before Begin or Settle returns, so that a
// crash at any point loses nothing the Service was told was recorded. It
// serves one process: the file is locked while it is open (on systems with
// flock), so a second process that opens it fails instead of sharing it.
// For several instances, use a shared journal (redisstore, sqlstore).
//
// Open replays the file; a torn last line (a crash in the middle of a
// write) is dropped, since the call it recorded was never sent. When
// settled entries make up most of the file, Open rewrites it with the
// pending ones only.
type FileJournal struct {
	mu      sync.Mutex
	f       *os.File
	broken  error // set when a failed write could not be undone
	pending map[string]Entry
	settled map[string]bool
	lines   int
}

type journalLine struct {
	Op      string   `json:"op"` // "begin" or "settle"
	Entry   *Entry   `json:"entry,omitempty"`
	MsgID   string   `json:"msg_id,omitempty"`
	Outcome *Outcome `json:"outcome,omitempty"`
}

// OpenFileJournal opens (or creates) the journal file at path.
func OpenFileJournal(path string) (*FileJournal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("payment: journal: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("payment: journal %s is in use by another process: %w", path, err)
	}
	j := &FileJournal{f: f, pending: map[string]Entry{}, settled: map[string]bool{}}
	if err := j.replay(); err != nil {
		f.Close()
		return nil, err
	}
	if j.lines > 64 && len(j.pending)*4 < j.lines {
		if err := j.compact(path); err != nil {
			f.Close()
			return nil, err
		}
	}
	return j, nil
}

// replay reads the file, keeps the pending entries and truncates a torn
// last line.
func (j *FileJournal) replay() error {
	r := bufio.NewReader(j.f)
	var good int64
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				// A torn last line: its call was never sent (Begin had not
				// returned), or its outcome is found again by Recover.
				if err := j.f.Truncate(good); err != nil {
					return fmt.Errorf("payment: journal: dropping a torn line: %w", err)
				}
			}
			break
		}
		if err != nil {
			return fmt.Errorf("payment: journal: %w", err)
		}
		var l journalLine
		if err := json.Unmarshal(bytes.TrimSpace(line), &l); err != nil {
			return fmt.Errorf("payment: journal: line %d is not a journal record: %w", j.lines+1, err)
		}
		j.apply(l)
		j.lines++
		good += int64(len(line))
	}
	_, err := j.f.Seek(good, io.SeekStart)
	return err
}

func (j *FileJournal) apply(l journalLine) {
	switch l.Op {
	case "begin":
		if l.Entry != nil && !j.settled[l.Entry.MsgID] {
			j.pending[l.Entry.MsgID] = *l.Entry
		}
	case "settle":
		delete(j.pending, l.MsgID)
		j.settled[l.MsgID] = true
	}
}

// compact rewrites the file with the pending entries only, through a
// temporary file and a rename, so that a crash leaves one or the other.
func (j *FileJournal) compact(path string) error {
	tmp := path + ".compact"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("payment: journal: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, e := range j.list() {
		b, _ := json.Marshal(journalLine{Op: "begin", Entry: &e})
		w.Write(append(b, '\n'))
	}
	if err := errors.Join(w.Flush(), f.Sync()); err != nil {
		f.Close()
		return fmt.Errorf("payment: journal: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		return fmt.Errorf("payment: journal: %w", err)
	}
	j.f.Close()
	j.f = f
	j.lines = len(j.pending)
	j.settled = map[string]bool{}
	return nil
}

func (j *FileJournal) write(l journalLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if j.f == nil {
		return errors.New("payment: journal is closed")
	}
	if j.broken != nil {
		return j.broken
	}
	end, err := j.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("payment: journal: %w", err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		// A short write (a full disk) leaves part of a line: cut it off,
		// or every later line would follow it and the file would not open
		// again. If that fails too, write nothing more.
		if terr := errors.Join(j.f.Truncate(end), seekTo(j.f, end)); terr != nil {
			j.broken = fmt.Errorf("payment: journal: a write failed (%w) and its partial line could not be removed (%w): reopen the journal", err, terr)
		}
		return fmt.Errorf("payment: journal: %w", err)
	}
	j.lines++
	return j.f.Sync()
}

func seekTo(f *os.File, off int64) error {
	_, err := f.Seek(off, io.SeekStart)
	return err
}

// Begin implements Journal.
func (j *FileJournal) Begin(_ context.Context, e Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.pending[e.MsgID]; ok || j.settled[e.MsgID] {
		return fmt.Errorf("payment: journal: msg_id %s is recorded already", e.MsgID)
	}
	if err := j.write(journalLine{Op: "begin", Entry: &e}); err != nil {
		return err
	}
	j.pending[e.MsgID] = e
	return nil
}

// Settle implements Journal.
func (j *FileJournal) Settle(_ context.Context, msgID string, o Outcome) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.pending[msgID]; !ok {
		return nil // settled before, or never begun here
	}
	if err := j.write(journalLine{Op: "settle", MsgID: msgID, Outcome: &o}); err != nil {
		return err
	}
	delete(j.pending, msgID)
	j.settled[msgID] = true
	return nil
}

// Pending implements Journal.
func (j *FileJournal) Pending(context.Context) ([]Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.list(), nil
}

func (j *FileJournal) list() []Entry {
	out := make([]Entry, 0, len(j.pending))
	for _, e := range j.pending {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return a.Begun.Compare(b.Begun) })
	return out
}

// Close closes the file (and releases its lock).
func (j *FileJournal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
