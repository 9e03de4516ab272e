package sandbox

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Buckets of the optional state file. Each record is one JSON value, so the
// file can be inspected with any bbolt tool. Memory-only state (msg_id
// cache, SMS serials, verify tokens, notification deliveries, faults) is
// short-lived by nature and not saved.
const (
	bucketMerchants = "merchants"
	bucketAccounts  = "accounts"
	bucketOrders    = "orders"
	bucketRefunds   = "refunds"
	bucketLedger    = "ledger"
	bucketMeta      = "meta"
	keyMeta         = "meta"
)

func allBuckets() []string {
	return []string{bucketMerchants, bucketAccounts, bucketOrders, bucketRefunds, bucketLedger, bucketMeta}
}

// merchantFile is a merchant as saved: the public key as its 04‖X‖Y hex.
type merchantFile struct {
	AppID      string `json:"app_id"`
	MerchantID string `json:"merchant_id"`
	PublicKey  string `json:"public_key"`
	NotifyURL  string `json:"notify_url,omitempty"`
}

// ledgerFile is a ledger entry as saved.
type ledgerFile struct {
	Time         time.Time `json:"time"`
	Type         string    `json:"type"`
	Amount       int64     `json:"amount"`
	BalanceAfter int64     `json:"balance_after"`
	OutTradeNo   string    `json:"out_trade_no,omitempty"`
	OutRefundNo  string    `json:"out_refund_no,omitempty"`
}

// openState opens (or creates) the state file and loads it into s.
func (s *store) openState(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("sandbox: open state file: %w", err)
	}
	err = db.Update(func(btx *bolt.Tx) error {
		for _, b := range allBuckets() {
			if _, err := btx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = db.View(s.load)
	}
	if err != nil {
		db.Close()
		return fmt.Errorf("sandbox: load state file: %w", err)
	}
	s.db = db
	return nil
}

func (s *store) load(btx *bolt.Tx) error {
	err := btx.Bucket([]byte(bucketMerchants)).ForEach(func(k, v []byte) error {
		var f merchantFile
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("merchant %q: %w", k, err)
		}
		pub, err := sign.ParsePublicKey([]byte(f.PublicKey))
		if err != nil {
			return fmt.Errorf("merchant %q: %w", k, err)
		}
		s.merchants[f.AppID] = &merchantRec{AppID: f.AppID, MerchantID: f.MerchantID, PublicKey: pub, NotifyURL: f.NotifyURL}
		return nil
	})
	if err != nil {
		return err
	}
	err = btx.Bucket([]byte(bucketAccounts)).ForEach(func(k, v []byte) error {
		a := new(account)
		if err := json.Unmarshal(v, a); err != nil {
			return fmt.Errorf("account %q: %w", k, err)
		}
		s.accounts[a.No] = a
		s.index(a)
		return nil
	})
	if err != nil {
		return err
	}
	err = btx.Bucket([]byte(bucketOrders)).ForEach(func(k, v []byte) error {
		o := new(order)
		if err := json.Unmarshal(v, o); err != nil {
			return fmt.Errorf("order %q: %w", k, err)
		}
		s.orders[orderKey{o.MerchantID, o.OutTradeNo}] = o
		return nil
	})
	if err != nil {
		return err
	}
	err = btx.Bucket([]byte(bucketRefunds)).ForEach(func(k, v []byte) error {
		r := new(refund)
		if err := json.Unmarshal(v, r); err != nil {
			return fmt.Errorf("refund %q: %w", k, err)
		}
		s.refunds[orderKey{r.MerchantID, r.OutRefundNo}] = r
		return nil
	})
	if err != nil {
		return err
	}
	// Ledger keys are account_no/sequence, zero padded, so ForEach yields
	// each account's entries in order.
	err = btx.Bucket([]byte(bucketLedger)).ForEach(func(k, v []byte) error {
		var f ledgerFile
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("ledger %q: %w", k, err)
		}
		no, _, ok := cutLedgerKey(string(k))
		if !ok {
			return fmt.Errorf("ledger key %q is malformed", k)
		}
		s.ledgers[no] = append(s.ledgers[no], LedgerEntry(f))
		return nil
	})
	if err != nil {
		return err
	}
	if v := btx.Bucket([]byte(bucketMeta)).Get([]byte(keyMeta)); v != nil {
		if err := json.Unmarshal(v, &s.meta); err != nil {
			return fmt.Errorf("meta: %w", err)
		}
		s.offset.Store(s.meta.ClockOffset)
	}
	return nil
}

// save writes the staged records of a transaction.
func (tx *txn) save(btx *bolt.Tx) error {
	for _, a := range tx.accounts {
		if err := putJSON(btx, bucketAccounts, []byte(a.No), a); err != nil {
			return err
		}
	}
	for k, o := range tx.orders {
		if err := putJSON(btx, bucketOrders, scopedKey(k), o); err != nil {
			return err
		}
	}
	for k, r := range tx.refunds {
		if err := putJSON(btx, bucketRefunds, scopedKey(k), r); err != nil {
			return err
		}
	}
	next := map[string]int{}
	for _, r := range tx.ledger {
		n, ok := next[r.accountNo]
		if !ok {
			n = len(tx.s.ledgers[r.accountNo])
		}
		next[r.accountNo] = n + 1
		if err := putJSON(btx, bucketLedger, ledgerKey(r.accountNo, n), ledgerFile(r.entry)); err != nil {
			return err
		}
	}
	if tx.meta != nil {
		if err := putJSON(btx, bucketMeta, []byte(keyMeta), tx.meta); err != nil {
			return err
		}
	}
	return nil
}

func saveMerchant(btx *bolt.Tx, m *merchantRec) error {
	pem, err := m.PublicKey.MarshalPEM()
	if err != nil {
		return err
	}
	return putJSON(btx, bucketMerchants, []byte(m.AppID), merchantFile{
		AppID: m.AppID, MerchantID: m.MerchantID, PublicKey: string(pem), NotifyURL: m.NotifyURL,
	})
}

func putJSON(btx *bolt.Tx, bucket string, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return btx.Bucket([]byte(bucket)).Put(key, b)
}

// scopedKey joins merchant id and number with NUL, which neither may hold.
func scopedKey(k orderKey) []byte { return []byte(k.merchantID + "\x00" + k.no) }

func ledgerKey(accountNo string, n int) []byte { return fmt.Appendf(nil, "%s/%012d", accountNo, n) }

func cutLedgerKey(k string) (accountNo string, n int, ok bool) {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == '/' {
			_, err := fmt.Sscanf(k[i+1:], "%d", &n)
			return k[:i], n, err == nil
		}
	}
	return "", 0, false
}

func (s *store) close() error {
	if s.db == nil {
		return nil
	}
	return s.db.Close()
}
