package wallet_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func TestQueryValidation(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	good := wallet.QueryRequest{IDNumber: "110101199003074514", Mobile: "13800138000", UserID: "u-1001"}
	for _, tc := range []struct {
		edit   func(*wallet.QueryRequest)
		field  string
		reason string
	}{
		{func(r *wallet.QueryRequest) { r.IDNumber = "" }, "id_number", "must be 18 characters"},
		{func(r *wallet.QueryRequest) { r.IDNumber = "110101199003074515" }, "id_number", "check digit does not match"},
		{func(r *wallet.QueryRequest) { r.IDNumber = "110101199002304519" }, "id_number", "birth date is not valid"},
		{func(r *wallet.QueryRequest) { r.Mobile = "12800138000" }, "mobile", "must be 11 digits starting 13 to 19"},
		{func(r *wallet.QueryRequest) { r.Mobile = "" }, "mobile", "must be 11 digits starting 13 to 19"},
		{func(r *wallet.QueryRequest) { r.UserID = "" }, "user_id", "must be 1 to 64 characters"},
		{func(r *wallet.QueryRequest) { r.UserID = "u 1" }, "user_id", "may hold only letters, digits and _-.@"},
	} {
		req := good
		tc.edit(&req)
		_, err := c.Query(ctx, req)
		var fe *wallet.FieldError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, tc.field, fe.Field)
		require.Equal(t, tc.reason, fe.Reason)
		require.ErrorIs(t, err, wallet.ErrParamInvalid)
	}
	require.Empty(t, bank.Requests(), "bad input never reaches the network")
}

func TestQueryOpenedAndNot(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	req := wallet.QueryRequest{IDNumber: "110101199003074514", Mobile: "13800138000", UserID: "u-1001"}

	bank.Reply("wallet/query", map[string]any{"opened": false})
	w, err := c.Query(ctx, req)
	require.NoError(t, err)
	require.False(t, w.Opened)
	require.Nil(t, w.Account)

	bank.Reply("wallet/query", `{"opened":true,"account_no":"6236880000000001","status":"NORMAL","name_masked":"*三","balance":12345,"available_balance":12345,"bound_card":{"bank_name":"中国工商银行","card_no_masked":"6222********1234"},"opened_at":"2026-11-20 10:00:00"}`)
	w, err = c.Query(ctx, req)
	require.NoError(t, err)
	require.True(t, w.Opened)
	require.Equal(t, int64(12345), w.Account.Balance)
	require.Equal(t, wallet.AccountNormal, w.Account.Status)
	require.Equal(t, "6222********1234", w.Account.BoundCard.CardNoMasked)
	require.Equal(t, 2026, w.Account.OpenedAt.Year())

	var sent map[string]string
	require.NoError(t, bank.Requests()[0].Decode(&sent))
	require.Equal(t, map[string]string{"id_number": "110101199003074514", "mobile": "13800138000", "user_id": "u-1001"}, sent,
		"the wire carries the clear values, inside the encrypted body")
	require.True(t, bank.Requests()[0].Encrypted)

	bank.ReplyError("wallet/query", wallet.ErrParamInvalid, "id_number: check digit does not match")
	_, err = c.Query(ctx, req)
	require.ErrorIs(t, err, wallet.ErrParamInvalid)
}

func TestPersonalDataPrintsMasked(t *testing.T) {
	req := wallet.QueryRequest{IDNumber: "110101199003074514", Mobile: "13800138000", UserID: "u-1001"}
	pin := wallet.EncryptedPIN{KeyID: "bank-2026-01", Ciphertext: "BASE64CIPHERTEXT=="}
	for _, s := range []string{
		fmt.Sprint(req), fmt.Sprintf("%v %+v %#v %s %q %x", req, req, req, req, req, req),
		fmt.Sprintf("%v %+v %#v %s %q %x", req.IDNumber, req.IDNumber, req.IDNumber, req.IDNumber, req.IDNumber, req.IDNumber),
		fmt.Sprintf("%v %#v", pin, pin), fmt.Sprint(wallet.CardNumber("6222021234567890128"), wallet.Name("张三")),
	} {
		require.NotContains(t, s, "110101199003074514")
		require.NotContains(t, s, "13800138000")
		require.NotContains(t, s, "6222021234567890128")
		require.NotContains(t, s, "张三")
		require.NotContains(t, s, "BASE64CIPHERTEXT")
	}
	require.Equal(t, "{IDNumber:110***********4514 Mobile:138****8000 UserID:u-1001}", req.LogValue().String())
}
