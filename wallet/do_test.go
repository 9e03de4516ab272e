package wallet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

var ctx = context.Background()

type order struct {
	OutTradeNo string `json:"out_trade_no"`
	Amount     int64  `json:"amount"`
}

func TestDoEncryptsSignsAndVerifies(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.On("platform/keys", func(r *wallettest.Request) wallettest.Reply {
		var in order
		require.NoError(t, r.Decode(&in))
		return wallettest.Reply{Biz: order{OutTradeNo: in.OutTradeNo, Amount: 990}}
	})
	c := bank.Client()
	var out order
	require.NoError(t, c.Do(ctx, "platform/keys", order{OutTradeNo: "T20261125001"}, &out))
	require.Equal(t, order{OutTradeNo: "T20261125001", Amount: 990}, out)

	reqs := bank.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.True(t, r.Encrypted, "every request is encrypted by default")
	require.Equal(t, "mock-bank-1", r.EncryptKeyID)
	require.JSONEq(t, `{"out_trade_no":"T20261125001","amount":0}`, string(r.Biz))
	require.NotContains(t, r.Fields["biz_content"], "T20261125001", "the body travels encrypted")
	require.Regexp(t, `^[0-9a-f]{32}$`, r.MsgID)
	require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, r.Timestamp)
	require.Equal(t, "1.0", r.Fields["version"])
	require.Equal(t, "SM2", r.Fields["sign_type"])
}

func TestDoPathForms(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.Reply("platform/keys", order{})
	c := bank.Client()
	for _, p := range []string{"platform/keys", "/platform/keys", "/api/v1/platform/keys", "api/v1/platform/keys"} {
		require.NoError(t, c.Do(ctx, p, nil, nil), p)
	}
	for _, p := range []string{"", "/", "payment/", "pay ment/query", "payment//query", "../x", "Payment/Query"} {
		require.Error(t, c.Do(ctx, p, nil, nil), p)
	}
}

func TestEncryptionPolicy(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.Reply("platform/keys", order{})
	bank.Reply("account/close", order{})
	c := bank.Client(wallet.WithEncryption(wallet.EncryptRequired))
	require.NoError(t, c.Do(ctx, "platform/keys", order{OutTradeNo: "T1"}, nil))
	require.NoError(t, c.Do(ctx, "account/close", order{OutTradeNo: "T1"}, nil))
	reqs := bank.Requests()
	require.False(t, reqs[0].Encrypted, "platform/keys may travel plain")
	require.Equal(t, `{"out_trade_no":"T1","amount":0}`, reqs[0].Fields["biz_content"])
	require.True(t, reqs[1].Encrypted, "account/close is a 🔒 API: always encrypted")
}

// TestEveryCodeMatchesItsSentinel runs every code of docs/protocol.md
// section 6 (read from the page, so a code added there and missing here
// fails) through Do.
func TestEveryCodeMatchesItsSentinel(t *testing.T) {
	t.Parallel()
	codes := wallet.ErrorCodes()
	require.ElementsMatch(t, protocolCodes(t), codes, "the SDK declares exactly the codes of docs/protocol.md section 6")
	bank := wallettest.NewMockBank(t)
	c := bank.Client(wallet.WithRetry(0))
	for _, code := range codes {
		bank.ReplyError("account/close", code, "m")
		err := c.Do(ctx, "account/close", order{}, nil)
		var apiErr *wallet.APIError
		require.ErrorAs(t, err, &apiErr, code)
		require.ErrorIs(t, err, code)
		require.Equal(t, code, apiErr.Code)
		require.Equal(t, "m", apiErr.Message)
		require.Equal(t, 200, apiErr.HTTPStatus)
		require.Equal(t, "account/close", apiErr.Path)
		require.Equal(t, code.Retryable(), wallet.IsRetryable(err), code)
		preAuth := code == wallet.ErrAppInvalid || code == wallet.ErrPermissionDenied || code == wallet.ErrTimestampExpired || code == wallet.ErrSignatureInvalid
		require.Equal(t, preAuth, wallet.IsOutcomeUnknown(err),
			"%s: a verified answer is a known outcome, except the codes anyone can provoke for a msg_id before authentication", code)
		require.Equal(t, string(code), fmt.Sprint(code), "a code prints bare")
		for _, other := range codes {
			if other != code {
				require.NotErrorIs(t, err, other)
			}
		}
	}
	// PARAM_INVALID is pre-authentication only for an envelope field.
	for msg, unknown := range map[string]bool{"timestamp: is not yyyy-MM-dd HH:mm:ss": true, "amount: must be at least 1 fen": false} {
		bank.ReplyError("account/close", wallet.ErrParamInvalid, msg)
		require.Equal(t, unknown, wallet.IsOutcomeUnknown(c.Do(ctx, "account/close", order{}, nil)), msg)
	}
}

// protocolCodes reads the error codes of docs/protocol.md section 6.
func protocolCodes(t *testing.T) []wallet.ErrorCode {
	t.Helper()
	doc, err := os.ReadFile("../docs/protocol.md")
	require.NoError(t, err)
	text := string(doc)
	start := strings.Index(text, "\n## 6.")
	require.NotEqual(t, -1, start, "docs/protocol.md has a section 6")
	end := strings.Index(text[start+1:], "\n## ")
	section := text[start : start+1+end]
	seen := map[wallet.ErrorCode]bool{}
	var codes []wallet.ErrorCode
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z][A-Z_]+[A-Z])` \\|").FindAllStringSubmatch(section, -1) {
		c := wallet.ErrorCode(m[1])
		if c != "SUCCESS" && !seen[c] {
			seen[c] = true
			codes = append(codes, c)
		}
	}
	require.NotEmpty(t, codes)
	return codes
}

func TestRetryableCodeThenSuccessKeepsTheMsgID(t *testing.T) {
	t.Parallel()
	for _, code := range []wallet.ErrorCode{wallet.ErrSystemError, wallet.ErrServiceUnavailable, wallet.ErrRateLimited} {
		bank := wallettest.NewMockBank(t)
		bank.On("account/close", func(r *wallettest.Request) wallettest.Reply {
			if r.Attempt == 1 {
				return wallettest.Reply{Code: code}
			}
			return wallettest.Reply{Biz: order{OutTradeNo: "T1", Amount: 1}}
		})
		var out order
		require.NoError(t, bank.Client().Do(ctx, "account/close", order{OutTradeNo: "T1"}, &out))
		reqs := bank.Requests()
		require.Len(t, reqs, 2)
		require.Equal(t, reqs[0].MsgID, reqs[1].MsgID, "a retry reuses msg_id")
		require.NotEqual(t, reqs[0].Fields["sign"], reqs[1].Fields["sign"], "with a fresh signature")
		require.NotEqual(t, reqs[0].Fields["encrypt_key"], reqs[1].Fields["encrypt_key"], "and a fresh key envelope")
		require.Equal(t, reqs[0].Biz, reqs[1].Biz)
	}
}

func TestRetriesStopAtTheCount(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.ReplyError("account/close", wallet.ErrSystemError, "busy")
	err := bank.Client(wallet.WithRetry(3)).Do(ctx, "account/close", order{}, nil)
	require.ErrorIs(t, err, wallet.ErrSystemError)
	require.True(t, wallet.IsRetryable(err))
	require.Len(t, bank.Requests(), 4)
}

func TestNonRetryableCodeIsNotRetried(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.ReplyError("account/close", wallet.ErrInsufficientBalance, "余额不足")
	err := bank.Client(wallet.WithRetry(5)).Do(ctx, "account/close", order{}, nil)
	require.ErrorIs(t, err, wallet.ErrInsufficientBalance)
	require.Len(t, bank.Requests(), 1)
}

func TestHTTPStatusRetries(t *testing.T) {
	t.Parallel()
	for status, retried := range map[int]bool{429: true, 502: true, 503: true, 504: true, 500: false, 404: false, 400: false} {
		bank := wallettest.NewMockBank(t)
		bank.On("account/close", func(r *wallettest.Request) wallettest.Reply {
			if r.Attempt == 1 {
				return wallettest.Reply{HTTPStatus: status}
			}
			return wallettest.Reply{Biz: order{Amount: 7}}
		})
		var out order
		err := bank.Client().Do(ctx, "account/close", order{}, &out)
		if retried {
			require.NoError(t, err, status)
			require.Len(t, bank.Requests(), 2, status)
			continue
		}
		var te *wallet.TransportError
		require.ErrorAs(t, err, &te, status)
		require.Equal(t, status, te.HTTPStatus)
		require.True(t, wallet.IsOutcomeUnknown(err), "a non-200 answer leaves the outcome unknown")
		require.Len(t, bank.Requests(), 1, status)
	}
}

func TestUnverifiableAnswersAreOutcomeUnknown(t *testing.T) {
	t.Parallel()
	stranger, err := sign.GenerateKey()
	require.NoError(t, err)
	for name, reply := range map[string]wallettest.Reply{
		"bad signature":    {Biz: order{}, Tamper: func(f map[string]string) { f["msg"] = "changed" }},
		"no signature":     {Biz: order{}, Tamper: func(f map[string]string) { delete(f, "sign") }},
		"untrusted signer": {Biz: order{}, SignWith: stranger},
		"unknown key id":   {Biz: order{}, Tamper: func(f map[string]string) { f["sign_key_id"] = "bank-9999" }},
		"msg_id mismatch":  {Biz: order{}, Tamper: func(f map[string]string) { f["msg_id"] = "00000000000000000000000000000000" }},
		"code changed":     {Code: wallet.ErrInsufficientBalance, Tamper: func(f map[string]string) { f["code"] = "SUCCESS" }},
		"body swapped":     {Biz: order{Amount: 1}, Tamper: func(f map[string]string) { f["biz_content"] = "{}" }},
	} {
		t.Run(name, func(t *testing.T) {
			bank := wallettest.NewMockBank(t)
			bank.On("account/close", func(*wallettest.Request) wallettest.Reply { return reply })
			var out order
			err := bank.Client().Do(ctx, "account/close", order{}, &out)
			require.ErrorIs(t, err, wallet.ErrUnverifiedResponse)
			require.True(t, wallet.IsOutcomeUnknown(err))
			require.False(t, wallet.IsRetryable(err), "3.4: only the listed failures are retried")
			require.Equal(t, order{}, out, "nothing of an unverified answer is returned")
			require.Len(t, bank.Requests(), 1)
		})
	}
}

func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"truncated JSON":    `{"app_id":"mock-app","code":"SUCC`,
		"not an object":     `["SUCCESS"]`,
		"non-string values": `{"code":0}`,
		"empty":             ``,
		"html":              `<html>502</html>`,
	} {
		t.Run(name, func(t *testing.T) {
			bank := wallettest.NewMockBank(t)
			bank.On("account/close", func(*wallettest.Request) wallettest.Reply { return wallettest.Reply{Body: []byte(body)} })
			err := bank.Client().Do(ctx, "account/close", order{}, nil)
			require.ErrorIs(t, err, wallet.ErrUnverifiedResponse)
			require.True(t, wallet.IsOutcomeUnknown(err))
		})
	}
}

func TestAnswerToEncryptedRequestMustBeEncrypted(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.On("account/close", func(r *wallettest.Request) wallettest.Reply {
		return wallettest.Reply{Biz: order{}, Tamper: func(f map[string]string) {
			// re-sign a plain body properly, so only the missing encryption is wrong
			delete(f, "encrypt_type")
			delete(f, "encrypt_key")
			f["biz_content"] = `{"amount":1}`
			delete(f, "sign")
			sig, _ := sign.SignCanonical(context.Background(), bank.BankKey("mock-bank-1"), "/api/v1/account/close", f)
			f["sign"] = sig
		}}
	})
	err := bank.Client().Do(ctx, "account/close", order{}, nil)
	require.ErrorIs(t, err, wallet.ErrUnverifiedResponse)
	require.ErrorContains(t, err, "not encrypted")
}

func TestTimeoutIsRetriedWithTheSameMsgID(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.On("account/close", func(r *wallettest.Request) wallettest.Reply {
		if r.Attempt == 1 {
			return wallettest.Reply{Biz: order{}, Delay: time.Second}
		}
		return wallettest.Reply{Biz: order{Amount: 3}}
	})
	var out order
	require.NoError(t, bank.Client(wallet.WithTimeout(50*time.Millisecond)).Do(ctx, "account/close", order{}, &out))
	require.Equal(t, int64(3), out.Amount)
	reqs := bank.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, reqs[0].MsgID, reqs[1].MsgID)
}

func TestTimeoutsExhaustedAreOutcomeUnknown(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.On("account/close", func(*wallettest.Request) wallettest.Reply {
		return wallettest.Reply{Biz: order{}, Delay: time.Second}
	})
	err := bank.Client(wallet.WithTimeout(20*time.Millisecond), wallet.WithRetry(1)).Do(ctx, "account/close", order{}, nil)
	var te *wallet.TransportError
	require.ErrorAs(t, err, &te)
	require.True(t, te.Sent)
	require.Equal(t, 2, te.Attempts)
	require.True(t, wallet.IsOutcomeUnknown(err))
	require.True(t, wallet.IsRetryable(err))
}

func TestConnectionErrorsRetryThenReport(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.On("account/close", func(r *wallettest.Request) wallettest.Reply {
		if r.Attempt < 3 {
			return wallettest.Reply{Err: errors.New("connection reset by peer")}
		}
		return wallettest.Reply{Biz: order{Amount: 5}}
	})
	var out order
	require.NoError(t, bank.Client().Do(ctx, "account/close", order{}, &out))
	require.Len(t, bank.Requests(), 3)
}

func TestDialFailureIsNotSent(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	cfg := bank.Config()
	cfg.BaseURL = "http://127.0.0.1:1" // nothing listens on port 1
	c, err := wallet.NewClient(cfg, wallet.WithRetry(1), wallet.WithBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	err = c.Do(ctx, "account/close", order{}, nil)
	var te *wallet.TransportError
	require.ErrorAs(t, err, &te)
	require.False(t, te.Sent, "a refused connection never carried the request")
	require.False(t, wallet.IsOutcomeUnknown(err))
	require.True(t, wallet.IsRetryable(err))
	require.Equal(t, 2, te.Attempts)
}

func TestContextErrors(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.On("account/close", func(*wallettest.Request) wallettest.Reply {
		// Far longer than the context, so that a starved scheduler that
		// wakes with both ready cannot pick the answer.
		return wallettest.Reply{Biz: order{}, Delay: time.Minute}
	})
	c := bank.Client()

	done, cancel := context.WithCancel(ctx)
	cancel()
	err := c.Do(done, "account/close", order{}, nil)
	require.Same(t, context.Canceled, err, "a context done before sending comes back unchanged")
	require.Empty(t, bank.Requests())

	short, cancel2 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel2()
	err = c.Do(short, "account/close", order{}, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.True(t, wallet.IsOutcomeUnknown(err), "it was sent: the bank may have acted")
	require.Len(t, bank.Requests(), 1, "no retry once the context is done")
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.On("account/close", func(r *wallettest.Request) wallettest.Reply {
		if r.Attempt == 1 {
			return wallettest.Reply{HTTPStatus: 429, RetryAfter: time.Second}
		}
		return wallettest.Reply{Err: errors.New("stop")}
	})
	c := bank.Client(wallet.WithRetry(1), wallet.WithBackoff(time.Millisecond, 2*time.Second))
	start := time.Now()
	_ = c.Do(ctx, "account/close", order{}, nil)
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "Retry-After: 1 waits about a second")
}

func TestWithMsgID(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.Reply("account/close", order{})
	c := bank.Client()
	id := "0123456789abcdef0123456789abcdef"
	require.NoError(t, c.Do(ctx, "account/close", order{}, nil, wallet.WithMsgID(id)))
	require.NoError(t, c.Do(ctx, "account/close", order{}, nil))
	reqs := bank.Requests()
	require.Equal(t, id, reqs[0].MsgID)
	require.NotEqual(t, id, reqs[1].MsgID)
	require.Regexp(t, `^[0-9a-f]{32}$`, wallet.NewMsgID())
	require.ErrorIs(t, c.Do(ctx, "account/close", order{}, nil, wallet.WithMsgID("UPPER")), wallet.ErrParamInvalid)
	require.Len(t, bank.Requests(), 2)
}

// A request that carries a PIN is encrypted to the PIN's bank key, which
// must be trusted and not expired: no caller has to name it.
func TestRequestWithAPINIsEncryptedToThePINsKey(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.AddBankKey("mock-bank-2")
	bank.Reply("account/close", order{})
	bank.Reply("platform/keys", map[string]any{})
	c := bank.Client(wallet.WithEncryptKeyID("mock-bank-2"))
	type withPIN struct {
		Password wallet.EncryptedPIN `json:"password"`
	}
	pin, err := sign.EncryptPIN(bank.BankKey("mock-bank-1").Public(), "135790")
	require.NoError(t, err)
	require.NoError(t, c.Do(ctx, "account/close", withPIN{wallet.EncryptedPIN{KeyID: "mock-bank-1", Ciphertext: pin}}, nil))
	require.NoError(t, c.Do(ctx, "account/close", order{}, nil))
	reqs := bank.Requests()
	require.Equal(t, "mock-bank-1", reqs[0].EncryptKeyID, "the PIN's key, not the pinned one")
	require.Equal(t, "mock-bank-2", reqs[1].EncryptKeyID)

	// Plain policy or not: a PIN travels encrypted.
	plain := bank.Client(wallet.WithEncryption(wallet.EncryptRequired))
	require.NoError(t, plain.Do(ctx, "platform/keys", withPIN{wallet.EncryptedPIN{KeyID: "mock-bank-1", Ciphertext: pin}}, nil))
	require.True(t, bank.Requests()[2].Encrypted)

	var fe *wallet.FieldError
	err = c.Do(ctx, "account/close", withPIN{wallet.EncryptedPIN{KeyID: "nope", Ciphertext: pin}}, nil)
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "password", fe.Field)
	require.Contains(t, fe.Reason, "does not trust")
	two := struct {
		A wallet.EncryptedPIN `json:"password"`
		B wallet.EncryptedPIN `json:"new_password"`
	}{wallet.EncryptedPIN{KeyID: "mock-bank-1", Ciphertext: pin}, wallet.EncryptedPIN{KeyID: "mock-bank-2", Ciphertext: pin}}
	require.ErrorAs(t, c.Do(ctx, "account/close", two, nil), &fe)
	require.Len(t, bank.Requests(), 3, "refused requests are never sent")
}

func TestRequestMustBeAJSONObject(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.Reply("account/close", order{})
	c := bank.Client()
	for _, req := range []any{[]int{1}, "str", 5, json.RawMessage(`[1]`), json.RawMessage(`{bad`), make(chan int)} {
		require.Error(t, c.Do(ctx, "account/close", req, nil), "%T", req)
	}
	require.Empty(t, bank.Requests())
	require.NoError(t, c.Do(ctx, "account/close", json.RawMessage(`{"a":"b"}`), nil))
	require.JSONEq(t, `{"a":"b"}`, string(bank.Requests()[0].Biz))
}

func TestUndecodableSuccessIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.Reply("account/close", `{"amount":"not a number"}`)
	err := bank.Client().Do(ctx, "account/close", order{}, &order{})
	require.ErrorIs(t, err, wallet.ErrUnverifiedResponse)
	require.True(t, wallet.IsOutcomeUnknown(err))
}

func TestRawMessageAnswer(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.Reply("account/close", `{"amount":12}`)
	var raw json.RawMessage
	require.NoError(t, bank.Client().Do(ctx, "account/close", order{}, &raw))
	require.JSONEq(t, `{"amount":12}`, string(raw))
}

// One client from many goroutines: run under -race.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.On("platform/keys", func(r *wallettest.Request) wallettest.Reply {
		var in order
		_ = r.Decode(&in)
		return wallettest.Reply{Biz: in}
	})
	c := bank.Client()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var out order
			if err := c.Do(ctx, "platform/keys", order{Amount: int64(i)}, &out); err != nil {
				errs <- err
				return
			}
			if out.Amount != int64(i) {
				errs <- errors.New("answer crossed to another call")
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Len(t, bank.Requests(), 32)
}

func TestPlainEnvelopeEscapesLikeJSON(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.Reply("platform/keys", order{})
	c := bank.Client(wallet.WithEncryption(wallet.EncryptRequired))
	odd := "quote\" backslash\\ newline\n tab\t nul\x00 bell\x07 中文 <&> \u2028"
	require.NoError(t, c.Do(ctx, "platform/keys", map[string]string{"out_trade_no": odd}, nil))
	var sent map[string]string
	require.NoError(t, bank.Requests()[0].Decode(&sent))
	require.Equal(t, odd, sent["out_trade_no"], "the bank reads back exactly what was signed")
}
