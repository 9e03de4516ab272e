package sandbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/sign"
)

const (
	// maxBodyBytes bounds a request body. The largest legitimate request is
	// account/open with a 1 MiB face image: ~1.4 MiB of base64 inside JSON,
	// ~1.8 MiB once that JSON is encrypted and base64ed again.
	maxBodyBytes = 6 << 20
	// timestampWindow is the allowed skew of an envelope timestamp.
	timestampWindow = 300 * time.Second
	encryptSM4GCM   = "SM4-GCM"
)

// inbound is a request that passed the gateway checks up to decryption.
type inbound struct {
	path   string
	spec   apiSpec
	appID  string
	msgID  string
	who    caller
	pinKey *sign.PrivateKey
	// encryptTo is the merchant key a SUCCESS answer is encrypted to; nil
	// when the request was plain.
	encryptTo *sign.PublicKey
	plain     []byte
}

// reply is an answer before it is signed.
type reply struct {
	appID     string
	msgID     string
	res       result
	encryptTo *sign.PublicKey
}

// serveAPI is one POST /api/v1/...: faults, the gateway, the signed answer.
func (b *Bank) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	latency, fault := b.faults.take(path)
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-b.closing:
			t.Stop()
		}
	}
	switch fault {
	case FaultHTTP503:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"service unavailable (injected fault)"}`))
		return
	case FaultDropBeforeCommit:
		drop(w)
		return
	}

	rep := b.answer(w, r, path)
	if fault == FaultDropAfterCommit {
		drop(w)
		return
	}
	body, err := b.envelope(path, rep, fault == FaultBadSignature)
	if err != nil {
		// Only a failing random source can get here; there is nothing to
		// sign an answer with.
		b.log.Error("sandbox: cannot sign an answer", "err", err)
		http.Error(w, "the bank cannot sign its answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

// answer runs the gateway checks and the API, in the order of
// docs/protocol.md, and returns the unsigned answer.
func (b *Bank) answer(w http.ResponseWriter, r *http.Request, path string) reply {
	start := time.Now()
	var rep reply
	defer func() {
		b.log.Debug("sandbox: api", "path", path, "app_id", rep.appID, "msg_id", rep.msgID,
			"code", rep.res.code, "took", time.Since(start))
	}()
	if b.isClosing() {
		rep = reply{res: result{code: codeServiceUnavailable, msg: "the sandbox is shutting down"}}
		return rep
	}
	if r.Method != http.MethodPost {
		// The method is the sender's: the message does not repeat it.
		rep = reply{res: result{code: codeAPINotFound, msg: "APIs take POST"}}
		return rep
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			rep = reply{res: errResult(paramInvalid("body", "is larger than 6 MiB"))}
		} else {
			rep = reply{res: errResult(paramInvalid("body", "could not be read"))}
		}
		return rep
	}
	in, early := b.authenticate(path, body)
	if early != nil {
		rep = *early
		return rep
	}
	rep = b.execute(r.Context(), in)
	return rep
}

func errResult(e *apiError) result { return result{code: e.code, msg: e.msg} }

// authenticate runs the gateway checks up to decryption (docs/protocol.md,
// "Errors"): body → envelope fields → app → merchant → timestamp → path →
// signature → encryption required → decryption. It returns the request, or
// the answer that ends it.
func (b *Bank) authenticate(path string, body []byte) (*inbound, *reply) {
	fields, perr := parseEnvelope(body)
	if perr != nil {
		return nil, &reply{res: errResult(perr)}
	}
	// A signed answer carries only values the bank has validated: the
	// app_id of a registered app, a msg_id of the protocol's form.
	m := b.st.merchant(fields["app_id"])
	rep := &reply{}
	if m != nil {
		rep.appID = m.AppID
	}
	if rules.MsgID(fields["msg_id"]) == nil {
		rep.msgID = fields["msg_id"]
	}
	end := func(e *apiError) (*inbound, *reply) {
		rep.res = errResult(e)
		return nil, rep
	}

	if err := envelopeFormat(fields); err != nil {
		return end(err)
	}
	if m == nil {
		return end(failCode(codeAppInvalid))
	}
	if fields["merchant_id"] != m.MerchantID {
		return end(failCode(codePermissionDenied))
	}
	ts, _ := parseTime(fields["timestamp"])
	if skew := b.now().Sub(ts); skew > timestampWindow || skew < -timestampWindow {
		return end(failCode(codeTimestampExpired))
	}
	spec, ok := b.apis[path]
	if !ok {
		return end(failCode(codeAPINotFound))
	}
	if err := m.PublicKey.VerifyCanonical(path, fields, fields["sign"]); err != nil {
		return end(failCode(codeSignatureInvalid))
	}
	in := &inbound{
		path: path, spec: spec, appID: m.AppID, msgID: fields["msg_id"],
		who: caller{AppID: m.AppID, MerchantID: m.MerchantID, NotifyURL: m.NotifyURL},
	}
	if fields["encrypt_type"] == "" {
		if spec.locked {
			return end(failCode(codeEncryptionRequired))
		}
		in.plain = []byte(fields["biz_content"])
		return in, nil
	}
	key, kerr := b.keys.decrypter(fields["encrypt_key_id"], b.now())
	if kerr != nil {
		return end(kerr)
	}
	plain, err := sign.Open(context.Background(), key, fields["encrypt_key"], fields["biz_content"], in.msgID)
	if err != nil {
		return end(fail(codeDecryptFailed, "biz_content does not decrypt: wrong bank key, msg_id (the AAD) or data"))
	}
	in.plain, in.pinKey, in.encryptTo = plain, key, m.PublicKey
	return in, nil
}

// envelopeFormat checks the envelope fields that need no key.
func envelopeFormat(f map[string]string) *apiError {
	if f["version"] != "1.0" {
		return paramInvalid("version", "must be 1.0")
	}
	if f["sign_type"] != "SM2" {
		return paramInvalid("sign_type", "must be SM2")
	}
	if err := rules.MsgID(f["msg_id"]); err != nil {
		return paramInvalid("msg_id", err.Error())
	}
	if _, err := parseTime(f["timestamp"]); err != nil {
		return paramInvalid("timestamp", err.Error())
	}
	switch f["encrypt_type"] {
	case encryptSM4GCM:
		if f["encrypt_key"] == "" {
			return paramInvalid("encrypt_key", "is required when encrypt_type is SM4-GCM")
		}
		if f["encrypt_key_id"] == "" {
			return paramInvalid("encrypt_key_id", "is required when encrypt_type is SM4-GCM")
		}
	case "":
		if f["encrypt_key"] != "" {
			return paramInvalid("encrypt_key", "is only allowed with encrypt_type SM4-GCM")
		}
		if f["encrypt_key_id"] != "" {
			return paramInvalid("encrypt_key_id", "is only allowed with encrypt_type SM4-GCM")
		}
	default:
		return paramInvalid("encrypt_type", "must be SM4-GCM or empty")
	}
	return nil
}

// execute is the idempotency step and the API itself.
func (b *Bank) execute(ctx context.Context, in *inbound) reply {
	rep := reply{appID: in.appID, msgID: in.msgID, encryptTo: in.encryptTo}
	fp := sign.SM3Hex(append([]byte(in.path), in.plain...))
	entry, cached, err := b.msgs.begin(ctx, msgKey{in.appID, in.msgID}, fp, b.now())
	switch {
	case err != nil:
		rep.res = errResult(err)
	case cached != nil:
		rep.res = *cached
	default:
		rep.res = b.dispatch(in)
		b.msgs.finish(entry, rep.res)
	}
	return rep
}

// dispatch runs the API. A panic is a bug of the sandbox, never the
// client's fault: it is logged and answered as a retryable SYSTEM_ERROR
// rather than taking the connection down.
func (b *Bank) dispatch(in *inbound) (res result) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("sandbox: panic in API", "path", in.path, "panic", p, "stack", string(debug.Stack()))
			res = result{code: codeSystemError, msg: defaultMessage(codeSystemError)}
		}
	}()
	v, err := in.spec.run(&call{who: in.who, plain: in.plain, pinKey: in.pinKey})
	if err != nil {
		return errResult(err)
	}
	return result{code: codeSuccess, msg: defaultMessage(codeSuccess), biz: marshalJSON(v)}
}

// envelope signs an answer (section 3.2) with the current signing key:
// SUCCESS carries biz_content, encrypted to the merchant when the request
// was; errors carry none. corrupt makes the signature cover other bytes
// (the bad_signature fault).
func (b *Bank) envelope(path string, rep reply, corrupt bool) ([]byte, error) {
	keyID, key := b.keys.signer()
	f := map[string]string{
		"app_id":      rep.appID,
		"msg_id":      rep.msgID,
		"timestamp":   formatTime(b.now()),
		"code":        rep.res.code,
		"msg":         rep.res.msg,
		"sign_key_id": keyID,
		"sign_type":   "SM2",
	}
	if rep.res.code == codeSuccess {
		if rep.encryptTo != nil {
			ek, ct, err := sign.Seal(rep.encryptTo, rep.res.biz, rep.msgID)
			if err != nil {
				return nil, err
			}
			f["encrypt_type"], f["encrypt_key"], f["biz_content"] = encryptSM4GCM, ek, ct
		} else {
			f["biz_content"] = string(rep.res.biz)
		}
	}
	signed := path
	if corrupt {
		signed = path + "#corrupted"
	}
	sig, err := sign.SignCanonical(context.Background(), key, signed, f)
	if err != nil {
		return nil, err
	}
	f["sign"] = sig
	return marshalJSON(f), nil
}
