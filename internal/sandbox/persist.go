package sandbox

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
)

// The optional state file (Options.StatePath) is a log of JSON lines, one
// line per saved transaction, written with the standard library alone so
// that the sandbox adds nothing to a merchant's module graph:
//
//   - every transaction appends one line (a stateLine) and fsyncs it before
//     memory changes, so memory and file never disagree;
//   - at open the lines are replayed in order; a last line that is cut off
//     or does not parse (a crash in the middle of an append) is dropped, a
//     bad line anywhere else is an error;
//   - then the file is compacted: the replayed state is written to a
//     temporary file, fsynced and renamed over the log, so the log starts
//     each run as one snapshot;
//   - a lock file beside it (StatePath + ".lock") keeps a second sandbox
//     from writing the same log.
//
// Memory-only state (msg_id cache, SMS serials, verify tokens, H5 sessions,
// notification deliveries, faults) is short-lived by nature and not saved.

// stateLine is one line of the log: the records one transaction changed
// (the whole record, not a difference), in the order they are applied.
type stateLine struct {
	Merchants []merchantFile `json:"merchants,omitempty"`
	Accounts  []*account     `json:"accounts,omitempty"`
	Orders    []*order       `json:"orders,omitempty"`
	Refunds   []*refund      `json:"refunds,omitempty"`
	Ledger    []ledgerLine   `json:"ledger,omitempty"`
	Meta      *meta          `json:"meta,omitempty"`
}

// merchantFile is a merchant as saved: the public key as SPKI PEM.
type merchantFile struct {
	AppID      string `json:"app_id"`
	MerchantID string `json:"merchant_id"`
	PublicKey  string `json:"public_key"`
	NotifyURL  string `json:"notify_url,omitempty"`
}

// ledgerLine is one ledger entry as saved, with its account.
type ledgerLine struct {
	AccountNo    string    `json:"account_no"`
	Time         time.Time `json:"time"`
	Type         string    `json:"type"`
	Amount       int64     `json:"amount"`
	BalanceAfter int64     `json:"balance_after"`
	OutTradeNo   string    `json:"out_trade_no,omitempty"`
	OutRefundNo  string    `json:"out_refund_no,omitempty"`
}

// errStateLocked is the answer when another sandbox holds the state file.
var errStateLocked = errors.New("another sandbox is using it (its .lock file is held)")

// snapshotChunk bounds the records per line of a compacted file, so that no
// line grows with the size of the bank.
const snapshotChunk = 500

// stateFile is the open log.
type stateFile struct {
	path string
	f    *os.File // the log, opened for appending
	lock *os.File // held until close
	size int64    // bytes of whole lines: a failed append is cut back to it
	// broken is set when a failed append could not be cut back: nothing
	// more is written, so that a half line never sits before a whole one.
	broken error
}

// openState locks and replays the state file into s, compacts it, and
// keeps it open for appending.
func (s *store) openState(path string) error {
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return fmt.Errorf("sandbox: state file %s: %w", path, err)
	}
	fail := func(err error) error {
		lock.Close()
		return fmt.Errorf("sandbox: state file %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail(err)
	}
	torn, err := s.replay(data)
	if err != nil {
		return fail(err)
	}
	if torn > 0 {
		s.log.Warn("sandbox: state file ended in an incomplete line (an interrupted save); it was dropped",
			"path", path, "bytes", torn)
	}
	size, err := writeSnapshot(path, s.snapshot())
	if err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fail(err)
	}
	s.file = &stateFile{path: path, f: f, lock: lock, size: size}
	return nil
}

// replay applies the lines of a log to s and returns how many bytes at the
// end it dropped as an interrupted append.
func (s *store) replay(data []byte) (torn int, err error) {
	for n := 1; len(data) > 0; n++ {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		var l stateLine
		if err := json.Unmarshal(line, &l); err != nil || !complete {
			if len(bytes.TrimSpace(rest)) == 0 {
				// The last line: an append that a crash cut short (or, on
				// some file systems, left as zeros).
				return len(data), nil
			}
			return 0, fmt.Errorf("line %d is not a saved transaction", n)
		}
		if err := s.apply(&l); err != nil {
			return 0, fmt.Errorf("line %d: %w", n, err)
		}
		data = rest
	}
	return 0, nil
}

// apply installs the records of one line.
func (s *store) apply(l *stateLine) error {
	for _, m := range l.Merchants {
		pub, err := sign.ParsePublicKey([]byte(m.PublicKey))
		if err != nil {
			return fmt.Errorf("merchant %q: %w", m.AppID, err)
		}
		s.merchants[m.AppID] = &merchantRec{AppID: m.AppID, MerchantID: m.MerchantID, PublicKey: pub, NotifyURL: m.NotifyURL}
		s.savedApps[m.AppID] = true
	}
	for _, a := range l.Accounts {
		if a == nil || a.No == "" {
			return errors.New("an account without a number")
		}
		s.accounts[a.No] = a
		s.index(a)
	}
	for _, o := range l.Orders {
		if o == nil {
			return errors.New("an empty order")
		}
		s.orders[orderKey{o.MerchantID, o.OutTradeNo}] = o
	}
	for _, r := range l.Refunds {
		if r == nil {
			return errors.New("an empty refund")
		}
		s.refunds[orderKey{r.MerchantID, r.OutRefundNo}] = r
	}
	for _, e := range l.Ledger {
		s.ledgers[e.AccountNo] = append(s.ledgers[e.AccountNo], LedgerEntry{
			Time: e.Time, Type: e.Type, Amount: e.Amount, BalanceAfter: e.BalanceAfter,
			OutTradeNo: e.OutTradeNo, OutRefundNo: e.OutRefundNo,
		})
	}
	if l.Meta != nil {
		s.meta = *l.Meta
		s.offset.Store(s.meta.ClockOffset)
	}
	return nil
}

// snapshot is the whole saved state as lines, in an order that replays to
// the same state: merchants, accounts, orders, refunds, ledgers (each
// account's entries in order), meta. Sorted, so that one state is always
// the same file.
func (s *store) snapshot() []stateLine {
	var out []stateLine
	apps := make([]string, 0, len(s.savedApps))
	for id := range s.savedApps {
		apps = append(apps, id)
	}
	slices.Sort(apps)
	for part := range slices.Chunk(apps, snapshotChunk) {
		var l stateLine
		for _, id := range part {
			if m := s.merchants[id]; m != nil {
				l.Merchants = append(l.Merchants, merchantRecord(m))
			}
		}
		out = append(out, l)
	}
	accts := slices.Sorted(maps.Keys(s.accounts))
	for part := range slices.Chunk(accts, snapshotChunk) {
		var l stateLine
		for _, no := range part {
			l.Accounts = append(l.Accounts, s.accounts[no])
		}
		out = append(out, l)
	}
	for part := range slices.Chunk(slices.SortedFunc(maps.Keys(s.orders), compareOrderKeys), snapshotChunk) {
		var l stateLine
		for _, k := range part {
			l.Orders = append(l.Orders, s.orders[k])
		}
		out = append(out, l)
	}
	for part := range slices.Chunk(slices.SortedFunc(maps.Keys(s.refunds), compareOrderKeys), snapshotChunk) {
		var l stateLine
		for _, k := range part {
			l.Refunds = append(l.Refunds, s.refunds[k])
		}
		out = append(out, l)
	}
	var ledger []ledgerLine
	for _, no := range slices.Sorted(maps.Keys(s.ledgers)) {
		for _, e := range s.ledgers[no] {
			ledger = append(ledger, ledgerRecord(no, e))
		}
	}
	for part := range slices.Chunk(ledger, snapshotChunk) {
		out = append(out, stateLine{Ledger: part})
	}
	m := s.meta
	out = append(out, stateLine{Meta: &m})
	return out
}

func compareOrderKeys(a, b orderKey) int {
	return cmp.Or(cmp.Compare(a.merchantID, b.merchantID), cmp.Compare(a.no, b.no))
}

// writeSnapshot replaces the file at path with lines, atomically: a
// temporary file is written and fsynced, then renamed over path, and the
// folder is fsynced so that the rename itself is durable.
func writeSnapshot(path string, lines []stateLine) (int64, error) {
	var buf bytes.Buffer
	for i := range lines {
		b, err := json.Marshal(&lines[i])
		if err != nil {
			return 0, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return 0, err
	}
	syncDir(filepath.Dir(path))
	return int64(buf.Len()), nil
}

// syncDir makes a rename in dir durable where the platform allows it
// (fsync of a folder is not possible on Windows; there the rename is
// already written through).
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// append saves one line: written, fsynced, or cut back to the last whole
// line when either fails.
func (sf *stateFile) append(l *stateLine) error {
	if sf.broken != nil {
		return sf.broken
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = sf.f.Write(b)
	if err == nil {
		err = sf.f.Sync()
	}
	if err != nil {
		if terr := sf.f.Truncate(sf.size); terr != nil {
			sf.broken = fmt.Errorf("state file %s is left with a partial line (%v); restart the sandbox", sf.path, terr)
		}
		return err
	}
	sf.size += int64(len(b))
	return nil
}

func (sf *stateFile) close() error {
	err := sf.f.Close()
	if lerr := sf.lock.Close(); err == nil {
		err = lerr
	}
	return err
}

// line is what a transaction saves.
func (tx *txn) line() *stateLine {
	l := &stateLine{Meta: tx.meta}
	for _, no := range slices.Sorted(maps.Keys(tx.accounts)) {
		l.Accounts = append(l.Accounts, tx.accounts[no])
	}
	for _, k := range slices.SortedFunc(maps.Keys(tx.orders), compareOrderKeys) {
		l.Orders = append(l.Orders, tx.orders[k])
	}
	for _, k := range slices.SortedFunc(maps.Keys(tx.refunds), compareOrderKeys) {
		l.Refunds = append(l.Refunds, tx.refunds[k])
	}
	for _, r := range tx.ledger {
		l.Ledger = append(l.Ledger, ledgerRecord(r.accountNo, r.entry))
	}
	return l
}

func merchantRecord(m *merchantRec) merchantFile {
	pem, err := m.PublicKey.MarshalPEM()
	if err != nil {
		// A key that was parsed always marshals; hex is the fallback.
		pem = []byte(m.PublicKey.Hex())
	}
	return merchantFile{AppID: m.AppID, MerchantID: m.MerchantID, PublicKey: string(pem), NotifyURL: m.NotifyURL}
}

func ledgerRecord(accountNo string, e LedgerEntry) ledgerLine {
	return ledgerLine{AccountNo: accountNo, Time: e.Time, Type: e.Type, Amount: e.Amount,
		BalanceAfter: e.BalanceAfter, OutTradeNo: e.OutTradeNo, OutRefundNo: e.OutRefundNo}
}

func (s *store) close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.close()
	s.file = nil
	return err
}
