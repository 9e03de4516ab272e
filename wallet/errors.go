package wallet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// ErrorCode is a code of docs/protocol.md, section 6. Every code is also
// an error value, so that errors.Is(err, wallet.ErrInsufficientBalance)
// matches an *APIError that carries it. It prints as the bare code
// (INSUFFICIENT_BALANCE) under every verb and in logs; the errors that
// carry it say where it came from.
type ErrorCode string

// Error is the bare code, so the code is usable as a sentinel with
// errors.Is.
func (c ErrorCode) Error() string { return string(c) }

// String is the bare code.
func (c ErrorCode) String() string { return string(c) }

// LogValue makes slog print the bare code.
func (c ErrorCode) LogValue() slog.Value { return slog.StringValue(string(c)) }

// Retryable reports whether the protocol retries this code with the same
// msg_id (SYSTEM_ERROR, SERVICE_UNAVAILABLE, RATE_LIMITED).
func (c ErrorCode) Retryable() bool {
	return c == ErrSystemError || c == ErrServiceUnavailable || c == ErrRateLimited
}

// The codes of docs/protocol.md, section 6.
const (
	// Retryable: the bank did not act; the SDK retries with the same msg_id.
	ErrSystemError        ErrorCode = "SYSTEM_ERROR"
	ErrServiceUnavailable ErrorCode = "SERVICE_UNAVAILABLE"
	ErrRateLimited        ErrorCode = "RATE_LIMITED"

	// Gateway: the request was refused before any business rule ran.
	ErrParamInvalid       ErrorCode = "PARAM_INVALID"
	ErrSignatureInvalid   ErrorCode = "SIGNATURE_INVALID"
	ErrDecryptFailed      ErrorCode = "DECRYPT_FAILED"
	ErrEncryptionRequired ErrorCode = "ENCRYPTION_REQUIRED"
	ErrTimestampExpired   ErrorCode = "TIMESTAMP_EXPIRED"
	ErrMsgIDConflict      ErrorCode = "MSG_ID_CONFLICT"
	ErrAppInvalid         ErrorCode = "APP_INVALID"
	ErrAPINotFound        ErrorCode = "API_NOT_FOUND"
	ErrPermissionDenied   ErrorCode = "PERMISSION_DENIED"

	// Business: the bank applied its rules and refused.
	ErrFourFactorMismatch   ErrorCode = "FOUR_FACTOR_MISMATCH"
	ErrCardNotSupported     ErrorCode = "CARD_NOT_SUPPORTED"
	ErrVerifyTokenInvalid   ErrorCode = "VERIFY_TOKEN_INVALID"
	ErrVerifyLimitExceeded  ErrorCode = "VERIFY_LIMIT_EXCEEDED"
	ErrSMSCodeInvalid       ErrorCode = "SMS_CODE_INVALID"
	ErrSMSCodeExpired       ErrorCode = "SMS_CODE_EXPIRED"
	ErrSMSTooFrequent       ErrorCode = "SMS_TOO_FREQUENT"
	ErrFaceMismatch         ErrorCode = "FACE_MISMATCH"
	ErrPasswordWeak         ErrorCode = "PASSWORD_WEAK"
	ErrPasswordIncorrect    ErrorCode = "PASSWORD_INCORRECT"
	ErrPasswordLocked       ErrorCode = "PASSWORD_LOCKED"
	ErrAgeRestricted        ErrorCode = "AGE_RESTRICTED"
	ErrAccountAlreadyOpened ErrorCode = "ACCOUNT_ALREADY_OPENED"
	ErrAccountNotFound      ErrorCode = "ACCOUNT_NOT_FOUND"
	ErrAccountFrozen        ErrorCode = "ACCOUNT_FROZEN"
	ErrAccountClosed        ErrorCode = "ACCOUNT_CLOSED"
	ErrBalanceNotZero       ErrorCode = "BALANCE_NOT_ZERO"
	ErrInsufficientBalance  ErrorCode = "INSUFFICIENT_BALANCE"
	ErrDailyLimitExceeded   ErrorCode = "DAILY_LIMIT_EXCEEDED"
	ErrYearlyLimitExceeded  ErrorCode = "YEARLY_LIMIT_EXCEEDED"
	ErrOrderConflict        ErrorCode = "ORDER_CONFLICT"
	ErrOrderNotFound        ErrorCode = "ORDER_NOT_FOUND"
	ErrRefundAmountExceeded ErrorCode = "REFUND_AMOUNT_EXCEEDED"
	ErrOrderNotRefundable   ErrorCode = "ORDER_NOT_REFUNDABLE"
	ErrBillNotReady         ErrorCode = "BILL_NOT_READY"
)

// ErrorCodes returns every code of docs/protocol.md, section 6, in the
// order of that section.
func ErrorCodes() []ErrorCode {
	return []ErrorCode{
		ErrSystemError, ErrServiceUnavailable, ErrRateLimited,
		ErrParamInvalid, ErrSignatureInvalid, ErrDecryptFailed, ErrEncryptionRequired, ErrTimestampExpired,
		ErrMsgIDConflict, ErrAppInvalid, ErrAPINotFound, ErrPermissionDenied,
		ErrFourFactorMismatch, ErrCardNotSupported, ErrVerifyTokenInvalid, ErrVerifyLimitExceeded,
		ErrSMSCodeInvalid, ErrSMSCodeExpired, ErrSMSTooFrequent, ErrFaceMismatch, ErrPasswordWeak,
		ErrPasswordIncorrect, ErrPasswordLocked, ErrAgeRestricted, ErrAccountAlreadyOpened,
		ErrAccountNotFound, ErrAccountFrozen, ErrAccountClosed, ErrBalanceNotZero, ErrInsufficientBalance,
		ErrDailyLimitExceeded, ErrYearlyLimitExceeded, ErrOrderConflict, ErrOrderNotFound,
		ErrRefundAmountExceeded, ErrOrderNotRefundable, ErrBillNotReady,
	}
}

// preAuthentication reports whether the bank gives code before it has
// verified that the request is the merchant's: anyone who saw a msg_id on
// the wire can make the bank sign such an answer for it (a copy of the
// request with a bad signature, an old timestamp, another merchant id, a
// malformed envelope field), and a man in the middle can hand that answer
// back while the real request goes through. So such an answer does not
// prove that the bank did not act on this request.
func preAuthentication(code ErrorCode, msg string) bool {
	switch code {
	case ErrAppInvalid, ErrPermissionDenied, ErrTimestampExpired, ErrSignatureInvalid:
		return true
	case ErrParamInvalid:
		field, _, _ := strings.Cut(msg, ":")
		switch field {
		case "body", "version", "sign_type", "msg_id", "timestamp", "app_id", "merchant_id",
			"encrypt_type", "encrypt_key", "encrypt_key_id", "sign":
			return true
		}
	}
	return false
}

// APIError is a verified answer of the bank with a code other than SUCCESS:
// the bank did not do what was asked. One exception: the codes the bank
// gives before it has verified that the request is the merchant's
// (APP_INVALID, PERMISSION_DENIED, TIMESTAMP_EXPIRED, SIGNATURE_INVALID,
// and PARAM_INVALID of an envelope field) can be provoked for a msg_id by
// anyone who saw it on the wire, so they also match ErrOutcomeUnknown:
// resolve them like an unknown outcome. In practice they mean a
// misconfigured key, clock or id.
type APIError struct {
	Code       ErrorCode // the protocol code
	Message    string    // the bank's msg, for people; PARAM_INVALID names the field first
	MsgID      string    // the request's msg_id, for the bank's support desk
	Path       string    // the API path, e.g. "payment/pay"
	HTTPStatus int       // always 200 for a verified answer
}

// Error reads "wallet: path: CODE: message (msg_id …)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("wallet: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.MsgID != "" {
		b.WriteString(" (msg_id ")
		b.WriteString(e.MsgID)
		b.WriteString(")")
	}
	return b.String()
}

// Is matches the ErrorCode sentinel of the same code, and
// ErrOutcomeUnknown for the codes the bank gives before authentication.
func (e *APIError) Is(target error) bool {
	if target == ErrOutcomeUnknown {
		return preAuthentication(e.Code, e.Message)
	}
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

// Retryable reports whether the code is one the protocol retries.
func (e *APIError) Retryable() bool { return e.Code.Retryable() }

// FieldError is a request refused locally, before any network call, because
// a field breaks a rule of the protocol. It matches ErrParamInvalid with
// errors.Is, like the bank's own answer would; errors.As tells the two apart.
// Reason never contains the value, which may be personal data.
type FieldError struct {
	Field  string // the protocol's field name, e.g. "id_number"
	Reason string // what is wrong, e.g. "check digit does not match"
}

// Error reads "wallet: invalid field: reason".
func (e *FieldError) Error() string { return "wallet: invalid " + e.Field + ": " + e.Reason }

// Is matches ErrParamInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrParamInvalid }

// fieldCheck wraps a rule check's error as a FieldError for field.
func fieldCheck(field string, err error) error {
	if err == nil {
		return nil
	}
	return &FieldError{Field: field, Reason: err.Error()}
}

var (
	// ErrOutcomeUnknown is matched by every error after which the business
	// outcome of a call is unknown: the request may have reached the bank and
	// been acted on, but no answer could be trusted. Resolve it by querying
	// (payment.Query by OutTradeNo), or by repeating the same request with the
	// same out_trade_no, never by sending a new order number.
	ErrOutcomeUnknown = errors.New("wallet: outcome unknown")

	// ErrUnverifiedResponse is wrapped by a TransportError when an answer
	// arrived but failed verification: missing or bad signature, a
	// sign_key_id that is not trusted, a field the protocol does not sign
	// there, a timestamp more than 300 s from the client's clock, a msg_id
	// or app_id that is not the request's, business fields that do not
	// match what was asked, an encrypted body that does not open, or a body
	// that does not decode. Nothing of such an answer is returned.
	ErrUnverifiedResponse = errors.New("wallet: response could not be verified")

	// ErrSigner is wrapped by the error of a call when the merchant's key
	// (Config.PrivateKey, a remote sign.Signer) failed to sign. When it
	// failed before the first attempt left, nothing was sent and the
	// outcome is known; after an earlier attempt may have reached the bank,
	// it comes inside a TransportError whose outcome is unknown.
	ErrSigner = errors.New("wallet: the merchant's key could not sign")
)

// TransportError is a call that got no trustworthy answer: a connection
// error, a timeout, an HTTP status other than 200, or a response that failed
// verification (ErrUnverifiedResponse). When Sent is true the request may
// have reached the bank, and errors.Is(err, ErrOutcomeUnknown) holds.
type TransportError struct {
	Path       string // the API path
	MsgID      string // the msg_id every attempt carried
	Attempts   int    // how many attempts were made
	HTTPStatus int    // the last HTTP status, 0 when none arrived
	Sent       bool   // whether any attempt may have reached the bank
	Err        error  // the cause: a net error, a context error, ErrUnverifiedResponse, ...
}

// Error says whether the request may have been sent, and why no answer
// could be trusted.
func (e *TransportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wallet: %s: ", e.Path)
	if e.Sent {
		b.WriteString("outcome unknown: ")
	} else {
		b.WriteString("not sent: ")
	}
	fmt.Fprintf(&b, "%v (msg_id %s, %d attempt", e.Err, e.MsgID, e.Attempts)
	if e.Attempts != 1 {
		b.WriteByte('s')
	}
	b.WriteByte(')')
	return b.String()
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Is matches ErrOutcomeUnknown when the request may have been sent.
func (e *TransportError) Is(target error) bool { return target == ErrOutcomeUnknown && e.Sent }

// IsOutcomeUnknown reports whether err leaves the business outcome of a call
// unknown. See ErrOutcomeUnknown for what to do (payment.Service.Resolve
// does it for money calls).
func IsOutcomeUnknown(err error) bool { return errors.Is(err, ErrOutcomeUnknown) }

// IsRetryable reports whether the protocol allows the same request to be
// sent again with the same msg_id: a retryable code, a timeout, a connection
// error, or HTTP 429/502/503/504. The client already retried such errors as
// often as its retry option allows; a caller may try again later.
func IsRetryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var te *TransportError
	if errors.As(err, &te) {
		return retryableTransport(te.HTTPStatus, te.Err)
	}
	return false
}

func retryableStatus(status int) bool {
	return status == 429 || status == 502 || status == 503 || status == 504
}

func retryableTransport(status int, err error) bool {
	if status != 0 && status != 200 {
		return retryableStatus(status)
	}
	if err == nil || errors.Is(err, ErrUnverifiedResponse) {
		return false
	}
	// A cancelled context is the caller's decision, not a fault to retry;
	// timeouts and connection errors are.
	if errors.Is(err, context.Canceled) {
		return false
	}
	return true
}
