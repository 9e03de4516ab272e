package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Lifetimes and counts of the short-lived state (section 8, docs/protocol.md).
const (
	verifyTokenTTL    = 15 * time.Minute
	maxVerifyFailures = 5
	smsCodeTTL        = 5 * time.Minute
	smsMinInterval    = time.Minute
	smsPerDay         = 10
	maxSMSWrongCodes  = 5
	// sandboxSMSCode is the code every sandbox SMS "carries" (section 11).
	sandboxSMSCode = "123456"
	// sweepEvery bounds how often expired entries are dropped; they are
	// useless after at most a day, so a lazy sweep keeps memory flat.
	sweepEvery = time.Minute
	// serialGrace is how long an expired SMS serial is still recognised.
	serialGrace = 24 * time.Hour
)

// ephemeral is the memory-only state of identity checks: verify tokens, SMS
// serials and the counters behind VERIFY_LIMIT_EXCEEDED and
// SMS_TOO_FREQUENT. It lives under the store lock and is not saved: all of
// it expires within a day.
type ephemeral struct {
	tokens      map[string]*verifyToken
	verifyFails map[verifyFailKey]int
	serials     map[string]*smsSerial
	smsSends    map[smsSendKey]*smsSendCounter
	lastSweep   time.Time
}

// verifyToken is a passed four-factor check, bound to the merchant and the
// four values it was issued for.
type verifyToken struct {
	merchantID string
	name       string
	idNumber   string
	cardNo     string
	mobile     string
	expires    time.Time
	used       bool
}

// smsSerial is one sent code, bound to merchant, mobile and scene.
type smsSerial struct {
	merchantID string
	mobile     string
	scene      string
	code       string
	expires    time.Time
	wrong      int
	voided     bool
	used       bool
}

// verifyFailKey counts failed four-factor checks per identity and business
// day, bank-wide: docs/protocol.md counts "for one id_number", so trying
// another channel does not reset the count.
type verifyFailKey struct{ idNumber, day string }

// smsSendKey counts SMS sends per mobile and scene, bank-wide
// (docs/protocol.md, "SMS"), which protects the holder's phone whichever
// merchant asks.
type smsSendKey struct{ mobile, scene string }

type smsSendCounter struct {
	day   string
	count int
	last  time.Time
}

func newEphemeral() ephemeral {
	return ephemeral{
		tokens:      map[string]*verifyToken{},
		verifyFails: map[verifyFailKey]int{},
		serials:     map[string]*smsSerial{},
		smsSends:    map[smsSendKey]*smsSendCounter{},
	}
}

// sweep drops what can no longer matter at business time now.
func (e *ephemeral) sweep(now time.Time) {
	if now.Sub(e.lastSweep) < sweepEvery && !now.Before(e.lastSweep) {
		return
	}
	e.lastSweep = now
	today := dayKey(now)
	for k, t := range e.tokens {
		if t.used || now.After(t.expires) {
			delete(e.tokens, k)
		}
	}
	for k, s := range e.serials {
		// Kept a day past expiry, so that a late use still hears
		// SMS_CODE_EXPIRED rather than SMS_CODE_INVALID.
		if now.After(s.expires.Add(serialGrace)) {
			delete(e.serials, k)
		}
	}
	for k := range e.verifyFails {
		if k.day != today {
			delete(e.verifyFails, k)
		}
	}
	for k, c := range e.smsSends {
		if c.day != today {
			delete(e.smsSends, k)
		}
	}
}

// checkSMS applies the SMS rules of docs/protocol.md to one use of a
// serial. A wrong code counts against the serial even though the call
// fails; the caller marks the serial used only when its call succeeds.
func (e *ephemeral) checkSMS(merchantID, serial, code, mobile, scene string, now time.Time) (*smsSerial, *apiError) {
	s := e.serials[serial]
	if s == nil || s.merchantID != merchantID || s.mobile != mobile || s.scene != scene {
		return nil, fail(codeSMSCodeInvalid, "sms_serial is unknown or was sent to another mobile or for another scene")
	}
	if s.used || s.voided || !now.Before(s.expires) {
		return nil, failCode(codeSMSCodeExpired)
	}
	if code != s.code {
		s.wrong++
		if s.wrong >= maxSMSWrongCodes {
			s.voided = true
			return nil, fail(codeSMSCodeInvalid, "SMS code is wrong; the serial is now void: request a new code")
		}
		return nil, failCode(codeSMSCodeInvalid)
	}
	return s, nil
}

// randomID is a prefix and 32 hex characters from crypto/rand: serials,
// tokens and notify ids must not be guessable.
func randomID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + hex.EncodeToString(b[:])
}
