package h5site

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// session is one flow, started by a verified link: the merchant, user,
// page parameters, return_url and notify_url travel with it, so that the
// link (and its spent nonce) is never needed again. What the user typed
// lives here too, never in a URL; PINs are not kept at all.
//
// The session id is in the path and a second random value, bound to it, is
// in an HttpOnly cookie scoped to that path: a session URL that leaks
// (history, a screenshot) is useless without the cookie, and two sessions
// in one browser do not collide.
type session struct {
	id      string
	bind    string // the cookie value that proves the browser is the one that opened the link
	base    string // the bank's mount prefix
	link    *link
	expires time.Time // real clock

	mu         sync.Mutex // one step at a time
	done       bool
	accountNo  string // the link's, or for open the new account
	outTradeNo string // recharge, withdraw, pay: the link's
	forms      map[string]*form
	flash      string   // wallet: how the last flow opened from it ended
	outcome    *outcome // a flow that failed for good, waiting for the user to leave
}

// form is the state of one page of a session between two steps.
type form struct {
	values     map[string]string // what the user typed, shown again; never a PIN
	smsSerial  string
	smsMobile  string
	face       []byte
	faceLabel  string
	token      string    // open: a passed four-factor check …
	tokenFor   [4]string // … for these name, id_number, card_no, mobile
	outTradeNo string    // a recharge or withdrawal opened from the wallet: the bank's order number
}

// outcome is a flow that cannot go on (a locked PIN, a frozen account):
// the result page shows why until the user leaves.
type outcome struct {
	view   string
	head   string
	detail string
	// result is what the merchant hears (FAILED); a flow opened from the
	// wallet goes back to the wallet instead.
	result string
}

// allows returns the page of view if it belongs to the session: its own
// page, and for a wallet session the pages 我的钱包 links to.
func (s *session) allows(pages map[string]*page, view string) *page {
	p := pages[view]
	switch {
	case p == nil:
		return nil
	case p == s.link.page, s.link.page.name == "wallet" && p.fromWallet:
		return p
	}
	return nil
}

// fromWallet reports whether view is a flow opened from the session's
// wallet page: it returns to the wallet, not to the merchant.
func (s *session) fromWallet(view string) bool {
	return s.link.page.name == "wallet" && view != "wallet"
}

func (s *session) form(view string) *form {
	f := s.forms[view]
	if f == nil {
		f = &form{values: map[string]string{}}
		s.forms[view] = f
	}
	return f
}

func (s *session) url(view string) string { return viewURL(s.base, s.id, view) }

// cookie binds the browser to the session. Scoped to the session's path, so
// that sessions in one browser each have their own; SameSite=Lax, so a
// cross-site form cannot post into a session; maxAge < 0 deletes it.
func (s *session) cookie(r *http.Request, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     cookieName,
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

// sessions are the live sessions of a site, in memory only: a flow does not
// survive a restart, as a real bank's H5 session would not survive a
// cluster failover either.
type sessions struct {
	mu        sync.Mutex
	m         map[string]*session
	lastSweep time.Time
}

func newSessions() *sessions { return &sessions{m: map[string]*session{}} }

func (ss *sessions) add(s *session, now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.sweep(now)
	ss.m[s.id] = s
}

// get returns a live session, or nil for an unknown or expired one.
func (ss *sessions) get(id string, now time.Time) *session {
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

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

// sweep drops expired sessions, at most once a minute; the caller holds mu.
func (ss *sessions) sweep(now time.Time) {
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

// nonces remembers the nonces of links already opened, per app, until the
// link they came with expires: after that the timestamp check refuses the
// link anyway, so the entry is no longer needed.
type nonces struct {
	mu        sync.Mutex
	used      map[nonceKey]time.Time // → when the entry may be forgotten
	lastSweep time.Time
}

type nonceKey struct{ appID, nonce string }

func newNonces() *nonces { return &nonces{used: map[nonceKey]time.Time{}} }

// spend marks a nonce used and reports whether it was still fresh. Check
// and mark are one step, so that two loads of one link cannot both pass.
func (n *nonces) spend(appID, nonce string, keepUntil, now time.Time) bool {
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
	k := nonceKey{appID, nonce}
	if _, seen := n.used[k]; seen {
		return false
	}
	n.used[k] = keepUntil
	return true
}

// start opens the session for a verified link. A link for an account that
// is not the merchant's, or does not exist, starts nothing.
func (s *Site) start(l *link, base string) (*session, *linkError) {
	if l.accountNo != "" {
		if _, err := s.bank.Account(l.who(s.bank), l.accountNo); err != nil {
			return nil, &linkError{kind: errAccount}
		}
	}
	now := s.bank.Now()
	sess := &session{
		id:         randomHex(),
		bind:       randomHex(),
		base:       base,
		link:       l,
		expires:    now.Add(sessionTTL),
		accountNo:  l.accountNo,
		outTradeNo: l.outTradeNo,
		forms:      map[string]*form{},
	}
	if l.page.data {
		v := sess.form(l.page.name).values
		v["name"], v["id_number"], v["mobile"], v["card_no"] = l.prefill.Name, l.prefill.IDNumber, l.prefill.Mobile, l.prefill.CardNo
	}
	s.sessions.add(sess, now)
	return sess, nil
}

// fixedAmount is the amount the link set for view, 0 when the user types
// one: a link's amount is the flow's (docs/protocol.md, section 9), but a
// flow opened from the wallet is the user's own.
func (s *session) fixedAmount(view string) int64 {
	if view != s.link.page.name || s.link.page.amount == noAmount {
		return 0
	}
	return s.link.amount
}

// randomHex is 32 hex characters from crypto/rand: session ids and cookie
// values must not be guessable.
func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// orderNo is an out_trade_no the bank makes for a recharge or withdrawal
// opened from the wallet: "H5" and 24 random hex characters, inside the
// 6–32 characters of the field rule and unlikely to meet a merchant's own.
func orderNo() string { return "H5" + randomHex()[:24] }
