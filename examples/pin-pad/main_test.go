package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The shop end to end over HTTP, with the SDK's EncryptPIN standing in for
// the browser (internal/browser drives the page in Chromium): a visit makes
// an order and lands on its pad, a wrong PIN is refused with a retry, the
// right one pays, the order page shows the bank's SUCCESS, and the shop's
// debug log never holds the digits.
func TestShop(t *testing.T) {
	var logs wallettest.Logs
	log := logs.Logger()
	s, err := start(context.Background(), "127.0.0.1:0", log)
	require.NoError(t, err)
	defer s.close()

	resp, err := http.Get(s.url + "/")
	require.NoError(t, err)
	page := read(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	order := resp.Request.URL.Query().Get("order")
	require.NotEmpty(t, order, "the visit landed on %s", resp.Request.URL)
	key, err := s.client.PINKey()
	require.NoError(t, err)
	require.Contains(t, page, `data-key-id="`+key.KeyID+`"`)
	require.Contains(t, page, `data-ref="`+order+`"`)
	require.Contains(t, page, "99.00")

	submit := func(pin string) map[string]any {
		p, err := s.client.EncryptPIN(pin)
		require.NoError(t, err)
		body, err := json.Marshal(map[string]string{"key_id": p.KeyID, "ciphertext": p.Ciphertext, "ref": order})
		require.NoError(t, err)
		resp, err := http.Post(s.url+"/pay", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		var res map[string]any
		require.NoError(t, json.Unmarshal([]byte(read(t, resp)), &res))
		return res
	}
	res := submit("000000")
	require.Equal(t, map[string]any{"ok": false, "code": "PASSWORD_INCORRECT", "message": "密码错误，请重新输入", "retry": true}, res)
	res = submit(wallettest.TestPIN)
	require.Equal(t, true, res["ok"], res)
	require.Equal(t, "/orders/"+order, res["redirect"])

	resp, err = http.Get(s.url + "/orders/" + url.PathEscape(order))
	require.NoError(t, err)
	require.Contains(t, read(t, resp), `<p id="status">SUCCESS</p>`)
	o, err := s.pay.Query(context.Background(), order)
	require.NoError(t, err)
	require.Equal(t, wallet.StatusSuccess, o.Status)

	// Paying again is answered from the shop's books, not charged twice.
	res = submit(wallettest.TestPIN)
	require.Equal(t, "订单已支付", res["message"])

	require.Contains(t, logs.String(), "shop: PIN submission")
	for _, pin := range []string{wallettest.TestPIN, "000000"} {
		require.NotContains(t, logs.String(), "="+pin, "the shop logged a PIN")
		require.NotContains(t, logs.String(), `"`+pin+`"`, "the shop logged a PIN")
	}

	resp, err = http.Get(s.url + "/pin/?order=T-unknown")
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.True(t, strings.Contains(read(t, resp), "链接已失效"))
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
