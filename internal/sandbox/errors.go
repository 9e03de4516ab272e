package sandbox

// The answer codes of docs/protocol.md, section 6.
const (
	codeSuccess = "SUCCESS"

	// Retryable: the client repeats the call with the same msg_id, and the
	// idempotency cache does not remember the answer.
	codeSystemError        = "SYSTEM_ERROR"
	codeServiceUnavailable = "SERVICE_UNAVAILABLE"
	codeRateLimited        = "RATE_LIMITED"

	// Gateway.
	codeParamInvalid       = "PARAM_INVALID"
	codeSignatureInvalid   = "SIGNATURE_INVALID"
	codeDecryptFailed      = "DECRYPT_FAILED"
	codeEncryptionRequired = "ENCRYPTION_REQUIRED"
	codeTimestampExpired   = "TIMESTAMP_EXPIRED"
	codeMsgIDConflict      = "MSG_ID_CONFLICT"
	codeAppInvalid         = "APP_INVALID"
	codeAPINotFound        = "API_NOT_FOUND"
	codePermissionDenied   = "PERMISSION_DENIED"

	// Business.
	codeFourFactorMismatch   = "FOUR_FACTOR_MISMATCH"
	codeCardNotSupported     = "CARD_NOT_SUPPORTED"
	codeVerifyTokenInvalid   = "VERIFY_TOKEN_INVALID"
	codeVerifyLimitExceeded  = "VERIFY_LIMIT_EXCEEDED"
	codeSMSCodeInvalid       = "SMS_CODE_INVALID"
	codeSMSCodeExpired       = "SMS_CODE_EXPIRED"
	codeSMSTooFrequent       = "SMS_TOO_FREQUENT"
	codeFaceMismatch         = "FACE_MISMATCH"
	codePasswordWeak         = "PASSWORD_WEAK"
	codePasswordIncorrect    = "PASSWORD_INCORRECT"
	codePasswordLocked       = "PASSWORD_LOCKED"
	codeAgeRestricted        = "AGE_RESTRICTED"
	codeAccountAlreadyOpened = "ACCOUNT_ALREADY_OPENED"
	codeAccountNotFound      = "ACCOUNT_NOT_FOUND"
	codeAccountFrozen        = "ACCOUNT_FROZEN"
	codeAccountClosed        = "ACCOUNT_CLOSED"
	codeBalanceNotZero       = "BALANCE_NOT_ZERO"
	codeInsufficientBalance  = "INSUFFICIENT_BALANCE"
	codeDailyLimitExceeded   = "DAILY_LIMIT_EXCEEDED"
	codeYearlyLimitExceeded  = "YEARLY_LIMIT_EXCEEDED"
	codeOrderConflict        = "ORDER_CONFLICT"
	codeOrderNotFound        = "ORDER_NOT_FOUND"
	codeRefundAmountExceeded = "REFUND_AMOUNT_EXCEEDED"
	codeOrderNotRefundable   = "ORDER_NOT_REFUNDABLE"
)

// apiError is a non-SUCCESS answer: a code of section 6 and its message.
// Business operations return it instead of Go errors so that the gateway and
// the H5 pages show the same code for the same rule.
type apiError struct {
	code string
	msg  string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// fail builds an answer with an explicit message.
func fail(code, msg string) *apiError { return &apiError{code: code, msg: msg} }

// failCode builds an answer with the code's standard message.
func failCode(code string) *apiError { return &apiError{code: code, msg: defaultMessage(code)} }

// paramInvalid is the one shape of PARAM_INVALID (docs/protocol.md): the
// field, a colon, the reason. The value is never echoed: it may be personal
// data.
func paramInvalid(field, reason string) *apiError {
	return &apiError{code: codeParamInvalid, msg: field + ": " + reason}
}

// retryable reports the codes a client repeats with the same msg_id; the
// idempotency cache forgets them so that the repeat is processed afresh.
func retryable(code string) bool {
	switch code {
	case codeSystemError, codeServiceUnavailable, codeRateLimited:
		return true
	}
	return false
}

// defaultMessage is the human-readable text of a code when the rule that
// fired has nothing more specific to say.
func defaultMessage(code string) string {
	switch code {
	case codeSuccess:
		return "ok"
	case codeSystemError:
		return "system error: retry with the same msg_id"
	case codeServiceUnavailable:
		return "service unavailable: retry with the same msg_id"
	case codeRateLimited:
		return "rate limited: retry later with the same msg_id"
	case codeSignatureInvalid:
		return "signature does not verify under the merchant's registered public key"
	case codeDecryptFailed:
		return "decryption failed"
	case codeEncryptionRequired:
		return "this API carries personal data: encrypt biz_content (encrypt_type SM4-GCM)"
	case codeTimestampExpired:
		return "timestamp is more than 300 s from bank time"
	case codeMsgIDConflict:
		return "msg_id was already used for a different request: use a fresh msg_id"
	case codeAppInvalid:
		return "unknown app_id"
	case codeAPINotFound:
		return "no such API"
	case codePermissionDenied:
		return "merchant_id does not belong to this app_id"
	case codeFourFactorMismatch:
		return "name, id_number, card_no and mobile do not match the bank's records"
	case codeCardNotSupported:
		return "only debit cards can be bound"
	case codeVerifyTokenInvalid:
		return "verify_token is unknown, expired, used or issued for other data"
	case codeVerifyLimitExceeded:
		return "too many failed verifications for this identity today"
	case codeSMSCodeInvalid:
		return "SMS code is wrong or the serial does not match"
	case codeSMSCodeExpired:
		return "SMS code has expired or been used: request a new one"
	case codeSMSTooFrequent:
		return "too many SMS for this mobile and scene: at most one a minute and ten a day"
	case codeFaceMismatch:
		return "face check failed"
	case codePasswordWeak:
		return "password is too weak: no repeated digits or runs"
	case codePasswordIncorrect:
		return "password is incorrect"
	case codePasswordLocked:
		return "password is locked after 5 wrong attempts today: reset it or try tomorrow"
	case codeAgeRestricted:
		return "applicant must be at least 16 years old"
	case codeAccountAlreadyOpened:
		return "this person already has an account in this channel"
	case codeAccountNotFound:
		return "account not found"
	case codeAccountFrozen:
		return "account is frozen"
	case codeAccountClosed:
		return "account is closed"
	case codeBalanceNotZero:
		return "balance must be zero to close the account"
	case codeInsufficientBalance:
		return "insufficient balance"
	case codeDailyLimitExceeded:
		return "daily limit exceeded"
	case codeYearlyLimitExceeded:
		return "yearly limit exceeded"
	case codeOrderConflict:
		return "out_trade_no or out_refund_no was already used with other parameters"
	case codeOrderNotFound:
		return "order not found"
	case codeRefundAmountExceeded:
		return "refunds would exceed the order amount"
	case codeOrderNotRefundable:
		return "only successful PAY orders can be refunded"
	}
	return code
}
