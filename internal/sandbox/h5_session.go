package sandbox

import (
	"net/http"
	"sync"
	"time"
)

// h5Session is one flow, started by a verified link: the merchant, user,
// page parameters, return_url and notify_url travel with it, so that the
// link (and its spent nonce) is never needed again. What the user typed
// lives here too, never in a URL; PINs are not kept at all.
type h5Session struct {
	id      string
	bind    string // the cookie value that proves the browser is the one that opened the link
	base    string // the bank's mount prefix
	link    *h5Link
	expires time.Time // real clock

	mu         sync.Mutex // one step at a time
	done       bool
	accountNo  string // the link's, or for open the new account
	outTradeNo string // recharge, withdraw, pay: the link's, or one the bank made
	forms      map[string]*h5Form
	flash      string     // wallet: how the last flow opened from it ended
	outcome    *h5Outcome // a flow that failed for good, waiting for the user to leave
}

// h5Form is the state of one view of a session between two steps.
type h5Form struct {
	values     map[string]string // what the user typed, shown again; never a PIN
	smsSerial  string
	smsMobile  string
	face       []byte
	faceLabel  string
	token      string    // open: a passed four-factor check …
	tokenFor   [4]string // … for these name, id_number, card_no, mobile
	outTradeNo string    // a wallet's recharge or withdraw: the bank's order number
}

// h5Outcome is a flow that cannot go on (a locked PIN, a frozen account):
// the result page shows why until the user leaves.
type h5Outcome struct {
	view   string
	head   string
	detail string
	// result is what the merchant hears (FAILED); a flow opened from the
	// wallet goes back to the wallet instead.
	result string
}

// allows reports whether view belongs to the session: its own page, and for
// a wallet session the pages 我的钱包 links to.
func (s *h5Session) allows(view string) bool {
	if view == s.link.page {
		return true
	}
	if s.link.page != "wallet" {
		return false
	}
	switch view {
	case "recharge", "withdraw", "card", "password", "close":
		return true
	}
	return false
}

// fromWallet reports whether view is a flow opened from the session's
// wallet page: it returns to the wallet, not to the merchant.
func (s *h5Session) fromWallet(view string) bool {
	return s.link.page == "wallet" && view != "wallet"
}

func (s *h5Session) form(view string) *h5Form {
	f := s.forms[view]
	if f == nil {
		f = &h5Form{values: map[string]string{}}
		s.forms[view] = f
	}
	return f
}

func (s *h5Session) url(view string) string { return viewURL(s.base, s.id, view) }

// cookie binds the browser to the session. Scoped to the session's path, so
// that sessions in one browser each have their own; SameSite=Lax, so a
// cross-site form cannot post into a session; maxAge < 0 deletes it.
func (s *h5Session) cookie(r *http.Request, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     h5CookieName,
		Value:    s.bind,
		Path:     viewURL(s.base, s.id, ""),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int(maxAge / time.Second),
	}
	if maxAge < 0 {
		c.Value, c.MaxAge = "", -1
	}
	return c
}

// h5Sessions are the live sessions of a bank, in memory only: a flow does
// not survive a restart, as a real bank's H5 session would not survive a
// cluster failover either.
type h5Sessions struct {
	mu        sync.Mutex
	m         map[string]*h5Session
	lastSweep time.Time
}

func newH5Sessions() *h5Sessions { return &h5Sessions{m: map[string]*h5Session{}} }

func (ss *h5Sessions) add(s *h5Session, now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.sweep(now)
	ss.m[s.id] = s
}

// get returns a live session, or nil for an unknown or expired one.
func (ss *h5Sessions) get(id string, now time.Time) *h5Session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if now.After(s.expires) {
		delete(ss.m, id)
		return nil
	}
	return s
}

func (ss *h5Sessions) remove(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

// sweep drops expired sessions, at most once a minute; the caller holds mu.
func (ss *h5Sessions) sweep(now time.Time) {
	if now.Sub(ss.lastSweep) < time.Minute && !now.Before(ss.lastSweep) {
		return
	}
	ss.lastSweep = now
	for id, s := range ss.m {
		if now.After(s.expires) {
			delete(ss.m, id)
		}
	}
}

// h5Nonces remembers the nonces of links already opened, per app, until
// the link they came with expires: after that the timestamp check refuses
// the link anyway, so the entry is no longer needed.
type h5Nonces struct {
	mu        sync.Mutex
	used      map[h5NonceKey]time.Time // → when the entry may be forgotten
	lastSweep time.Time
}

type h5NonceKey struct{ appID, nonce string }

func newH5Nonces() *h5Nonces { return &h5Nonces{used: map[h5NonceKey]time.Time{}} }

// spend marks a nonce used and reports whether it was still fresh. Check
// and mark are one step, so that two loads of one link cannot both pass.
func (n *h5Nonces) spend(appID, nonce string, keepUntil, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if now.Sub(n.lastSweep) >= time.Minute || now.Before(n.lastSweep) {
		n.lastSweep = now
		for k, until := range n.used {
			if now.After(until) {
				delete(n.used, k)
			}
		}
	}
	k := h5NonceKey{appID, nonce}
	if _, seen := n.used[k]; seen {
		return false
	}
	n.used[k] = keepUntil
	return true
}

// start opens the session for a verified link. A link for an account that
// is not the merchant's, or does not exist, starts nothing.
func (s *h5Site) start(l *h5Link, base string) (*h5Session, *h5Error) {
	if l.accountNo != "" {
		if _, err := s.core.queryAccount(l.who(s.b), accountArgs{AccountNo: l.accountNo}); err != nil {
			return nil, &h5Error{kind: h5ErrAccount}
		}
	}
	now := s.b.now()
	sess := &h5Session{
		id:         randomID(""),
		bind:       randomID(""),
		base:       base,
		link:       l,
		expires:    now.Add(h5SessionTTL),
		accountNo:  l.accountNo,
		outTradeNo: l.outTradeNo,
		forms:      map[string]*h5Form{},
	}
	switch l.page {
	case "recharge", "withdraw":
		// The merchant may leave the order number to the bank; the bank
		// fixes one now, so that a retried step cannot pay twice.
		if sess.outTradeNo == "" {
			sess.outTradeNo = h5OrderNo()
		}
	case "open":
		f := sess.form("open")
		f.values["name"] = l.prefill.Name
		f.values["id_number"] = l.prefill.IDNumber
		f.values["mobile"] = l.prefill.Mobile
		f.values["card_no"] = l.prefill.CardNo
	}
	if l.amount > 0 {
		sess.form(l.page).values["amount"] = yuan(l.amount)
	}
	s.sessions.add(sess, now)
	return sess, nil
}

// h5OrderNo is an out_trade_no the bank makes for a recharge or withdrawal
// whose merchant gave none: "H5" and 24 random hex characters, inside the
// 6–32 characters of the field rule and unlikely to meet a merchant's own.
func h5OrderNo() string { return "H5" + randomID("")[:24] }
