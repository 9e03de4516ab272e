package pinpad

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/xinyun-open/ewallet-go/wallet"
)

// MaxBody is the largest POST body Decode reads: a submission is about
// 250 bytes (a 140-character ciphertext, a key id, a reference).
const MaxBody = 4 << 10

// MaxRef is the longest reference Decode accepts, in bytes.
const MaxRef = 128

// ErrBadSubmission is what every error of Decode matches with errors.Is.
// Those about a field also match wallet.ErrParamInvalid, and errors.As
// finds their *wallet.FieldError.
var ErrBadSubmission = errors.New("pinpad: bad submission")

// Submission is what the page posts: the PIN, encrypted on the user's
// device, and the merchant's reference from Prompt.Ref. It prints the PIN
// masked (wallet.EncryptedPIN does).
type Submission struct {
	PIN wallet.EncryptedPIN
	Ref string
}

// LogValue makes slog print the key id and the reference, never the
// ciphertext.
func (s Submission) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("pin", s.PIN), slog.String("ref", s.Ref))
}

// Decode reads the page's POST: a JSON object with exactly the members
// key_id, ciphertext and ref, sent same-origin with Content-Type
// application/json (which a cross-site HTML form cannot send). It checks
// the PIN's shape with wallet.EncryptedPIN.Check — whether the PIN is right
// only the bank can tell — and refuses any other member, so a page changed
// to send the digits themselves is refused rather than passed on.
func Decode(r *http.Request) (Submission, error) {
	if r.Method != http.MethodPost {
		return Submission{}, fmt.Errorf("%w: method %s, want POST", ErrBadSubmission, r.Method)
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return Submission{}, fmt.Errorf("%w: sent from another site", ErrBadSubmission)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return Submission{}, fmt.Errorf("%w: Content-Type %q, want application/json", ErrBadSubmission, r.Header.Get("Content-Type"))
	}
	if r.Body == nil {
		return Submission{}, fmt.Errorf("%w: no body", ErrBadSubmission)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return Submission{}, fmt.Errorf("%w: reading the body: %w", ErrBadSubmission, err)
	}
	return parse(body)
}

// parse is Decode after the HTTP checks.
func parse(body []byte) (Submission, error) {
	if len(body) > MaxBody {
		return Submission{}, fmt.Errorf("%w: body over %d bytes", ErrBadSubmission, MaxBody)
	}
	var in struct {
		KeyID      *string `json:"key_id"`
		Ciphertext *string `json:"ciphertext"`
		Ref        *string `json:"ref"`
	}
	// Members are matched exactly: encoding/json would also take "Key_ID".
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return Submission{}, fmt.Errorf("%w: the body is not a JSON object", ErrBadSubmission)
	}
	for name := range members {
		switch name {
		case "key_id", "ciphertext", "ref":
		default:
			// The name is not repeated: a page gone wrong could send the
			// digits as a name, and errors get logged.
			return Submission{}, fieldError("body", "has a member other than key_id, ciphertext and ref")
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return Submission{}, fmt.Errorf("%w: key_id, ciphertext and ref must be strings", ErrBadSubmission)
	}
	var s Submission
	switch {
	case in.KeyID == nil || *in.KeyID == "":
		return Submission{}, fieldError("key_id", "is required")
	case in.Ciphertext == nil || *in.Ciphertext == "":
		return Submission{}, fieldError("ciphertext", "is required")
	}
	s.PIN = wallet.EncryptedPIN{KeyID: *in.KeyID, Ciphertext: *in.Ciphertext}
	if len(s.PIN.KeyID) > 64 || !printable(s.PIN.KeyID) {
		return Submission{}, fieldError("key_id", "is not a bank key id")
	}
	if err := s.PIN.Check(); err != nil {
		return Submission{}, fieldError("ciphertext", err.Error())
	}
	if in.Ref != nil {
		s.Ref = *in.Ref
	}
	if len(s.Ref) > MaxRef || !printable(s.Ref) {
		return Submission{}, fieldError("ref", fmt.Sprintf("must be at most %d bytes of printable text", MaxRef))
	}
	return s, nil
}

func fieldError(field, reason string) error {
	return fmt.Errorf("%w: %w", ErrBadSubmission, &wallet.FieldError{Field: field, Reason: reason})
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Result is the merchant endpoint's answer to the page, as JSON: the page
// shows Message, and then lets the user type the PIN again (Retry), goes
// to Redirect (a URL of the page's own origin), or stays done.
type Result struct {
	OK       bool   `json:"ok"`
	Code     string `json:"code,omitempty"`     // the protocol's code when the bank refused, e.g. PASSWORD_INCORRECT
	Message  string `json:"message"`            // for the user, in Chinese
	Retry    bool   `json:"retry,omitempty"`    // the user may type the PIN again
	Redirect string `json:"redirect,omitempty"` // where the page goes after OK
}

// CodeOutcomeUnknown is Result.Code when the bank may or may not have acted
// (wallet.IsOutcomeUnknown): the merchant settles it with a query, never
// by asking for the PIN again under a new order number.
const CodeOutcomeUnknown = "OUTCOME_UNKNOWN"

// Failure is the Result for an error of Decode, or of an SDK call that
// carried the PIN: a message in Chinese for the user, the protocol's code,
// and whether typing the PIN again can help. It says nothing the error
// does not (no amounts, no account).
func Failure(err error) Result {
	var (
		fe   *wallet.FieldError
		code string
		api  *wallet.APIError
	)
	if errors.As(err, &api) {
		code = string(api.Code)
	}
	switch {
	case err == nil:
		return Result{OK: true, Message: "操作成功"}
	case errors.Is(err, ErrBadSubmission):
		return Result{Code: string(wallet.ErrParamInvalid), Message: "密码提交有误，请刷新页面后重试"}
	case wallet.IsOutcomeUnknown(err):
		return Result{Code: CodeOutcomeUnknown, Message: "结果确认中，请稍后在订单中查看，请勿重复操作"}
	case errors.Is(err, wallet.ErrPasswordIncorrect):
		return Result{Code: code, Message: "密码错误，请重新输入", Retry: true}
	case errors.Is(err, wallet.ErrPasswordLocked):
		return Result{Code: code, Message: "密码错误次数过多，今日已锁定，请明日再试或重置密码"}
	case errors.Is(err, wallet.ErrDecryptFailed):
		return Result{Code: code, Message: "密码加密已失效，请刷新页面后重新输入"}
	case errors.As(err, &fe) && fe.Field == "password":
		// The SDK refused the PIN's key (untrusted or expired) before sending.
		return Result{Code: string(wallet.ErrParamInvalid), Message: "密码加密已失效，请刷新页面后重新输入"}
	case errors.Is(err, wallet.ErrInsufficientBalance):
		return Result{Code: code, Message: "余额不足"}
	case errors.Is(err, wallet.ErrDailyLimitExceeded):
		return Result{Code: code, Message: "已超出今日限额"}
	case errors.Is(err, wallet.ErrYearlyLimitExceeded):
		return Result{Code: code, Message: "已超出年度限额"}
	case errors.Is(err, wallet.ErrAccountFrozen):
		return Result{Code: code, Message: "账户已冻结，请联系银行"}
	case errors.Is(err, wallet.ErrAccountClosed):
		return Result{Code: code, Message: "账户已销户"}
	case errors.Is(err, wallet.ErrRateLimited), errors.Is(err, wallet.ErrSystemError), errors.Is(err, wallet.ErrServiceUnavailable):
		return Result{Code: code, Message: "银行系统繁忙，请稍后再试", Retry: true}
	default:
		return Result{Code: code, Message: "操作失败，请稍后再试"}
	}
}

// Reply writes res as the endpoint's JSON answer (status 200: the page
// reads OK, not the status), not to be cached.
func Reply(w http.ResponseWriter, res Result) {
	b, err := json.Marshal(res)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}
