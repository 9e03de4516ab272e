package wallet_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

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
	mt := cannedAnswer(body)
	c, err := wallet.NewClient(wallet.Config{
		BaseURL: "https://sandbox.example", AppID: "sandbox-app", MerchantID: "M100000001",
		PrivateKey: merchant, BankKeys: map[string]*sign.PublicKey{keys.BankKeyID: bank, keys.BankNextKeyID: next},
	}, wallet.WithHTTPClient(&http.Client{Transport: mt}), wallet.WithClock(func() time.Time { return at }),
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
				require.True(t, wallet.IsOutcomeUnknown(err))
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
