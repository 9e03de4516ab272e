package wallet_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// vectorClient is a client with the vectors' TEST keys and ids, its clock
// stopped at now, answering every request with body.
func vectorClient(t *testing.T, now string, body string) *wallet.Client {
	t.Helper()
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	merchant, err := sign.ParsePrivateKey([]byte(keys.Merchant.PrivatePEM))
	require.NoError(t, err)
	bank, err := sign.ParsePublicKey([]byte(keys.Bank.PublicPEM))
	require.NoError(t, err)
	next, err := sign.ParsePublicKey([]byte(keys.BankNext.PublicPEM))
	require.NoError(t, err)
	at, err := vectors.Time(now)
	require.NoError(t, err)
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(httpmock.NewStringResponder(http.StatusOK, body))
	c, err := wallet.NewClient(wallet.Config{
		BaseURL: "https://sandbox.example", AppID: "sandbox-app", MerchantID: "M100000001",
		PrivateKey: merchant, BankKeys: map[string]*sign.PublicKey{keys.BankKeyID: bank, keys.BankNextKeyID: next},
	}, wallet.WithTransport(mt), wallet.WithClock(func() time.Time { return at }),
		wallet.WithRetry(0), wallet.WithEncryption(wallet.EncryptRequired))
	require.NoError(t, err)
	return c
}

func TestVectorResponses(t *testing.T) {
	var cases []vectors.Message
	require.NoError(t, vectors.Load("responses.json", &cases))
	require.NotEmpty(t, cases)
	for i, v := range cases {
		t.Run(vectors.Name(i, v.Valid, v.Why), func(t *testing.T) {
			c := vectorClient(t, v.Now, v.Body)
			var raw json.RawMessage
			err := c.Do(ctx, v.Path, json.RawMessage(`{}`), &raw, wallet.WithMsgID(v.RequestMsgID))
			if !v.Valid {
				require.ErrorIs(t, err, wallet.ErrUnverifiedResponse)
				require.True(t, wallet.OutcomeUnknown(err))
				require.Nil(t, raw)
				return
			}
			if v.Code == "SUCCESS" {
				require.NoError(t, err)
				require.JSONEq(t, v.BizContent, string(raw))
				return
			}
			require.ErrorIs(t, err, wallet.ErrorCode(v.Code))
		})
	}
}

func TestVectorNotifications(t *testing.T) {
	var cases []vectors.Message
	require.NoError(t, vectors.Load("notifications.json", &cases))
	require.NotEmpty(t, cases)
	for i, v := range cases {
		t.Run(vectors.Name(i, v.Valid, v.Why), func(t *testing.T) {
			c := vectorClient(t, v.Now, "")
			r, err := http.NewRequest(http.MethodPost, "https://merchant.example/notify", strings.NewReader(v.Body))
			require.NoError(t, err)
			n, err := c.ParseNotification(r)
			if !v.Valid {
				require.ErrorIs(t, err, wallet.ErrBadNotification)
				require.Nil(t, n)
				return
			}
			require.NoError(t, err)
			require.Equal(t, wallet.NotifyType(v.NotifyType), n.Type)
			require.JSONEq(t, v.BizContent, string(n.Data))
			o, err := n.Order()
			require.NoError(t, err)
			require.Equal(t, wallet.OrderPay, o.Type)
			require.Equal(t, int64(2500), o.Amount)
			require.Equal(t, "2026-11-25 15:58:02", o.FinishedAt.In(time.FixedZone("", 8*3600)).Format("2006-01-02 15:04:05"))
		})
	}
}
