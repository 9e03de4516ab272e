package wallet_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The log of a client at debug level, through calls that succeed, fail
// and retry, holds no personal data, no body and no key material (package
// notify has the same test for notifications).
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	for _, handler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
		func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
	} {
		var logs bytes.Buffer
		bank := wallettest.NewMockBank(t)
		c := bank.Client(wallet.WithLogger(slog.New(handler(&logs))))
		opened := `{"opened":true,"account_no":"6236880000000001","status":"NORMAL","name_masked":"*三","balance":12345,"available_balance":12345,"bound_card":{"bank_name":"中国工商银行","card_no_masked":"6222********1234"},"opened_at":"2026-11-20 10:00:00"}`
		bank.On("wallet/query", func(r *wallettest.Request) wallettest.Reply {
			if r.Attempt == 1 {
				return wallettest.Reply{Code: wallet.ErrSystemError}
			}
			return wallettest.Reply{Biz: opened}
		})
		req := wallet.QueryRequest{IDNumber: "110101199003074514", Mobile: "13800138000", UserID: "u-1001"}
		_, err := c.Query(ctx, req)
		require.NoError(t, err)
		bank.ReplyError("wallet/query", wallet.ErrParamInvalid, "id_number: check digit does not match")
		_, _ = c.Query(ctx, req)
		bank.On("wallet/query", func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Biz: opened, Tamper: func(f map[string]string) { f["msg"] = "x" }}
		})
		_, _ = c.Query(ctx, req)
		pin, _ := c.EncryptPIN("135790")
		// A merchant logging its own request through slog is safe too.
		slog.New(handler(&logs)).Info("merchant", "req", req, "pin", pin)

		out := logs.String()
		require.Contains(t, out, "wallet/query")
		require.Contains(t, out, "SYSTEM_ERROR")
		for _, secret := range []string{
			"110101199003074514", "13800138000", "张三", "135790", pin.Ciphertext,
			bank.MerchantKey.Hex(), "6236880000000001", "T20261125002", "biz_content", "BEGIN",
		} {
			require.False(t, strings.Contains(out, secret), "log holds %q:\n%s", secret, out)
		}
	}
}
