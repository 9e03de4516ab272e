package wallettest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

var ctx = context.Background()

// A merchant's H5 flow end to end without a browser: the SDK builds the
// link, the test user completes the page, the SDK verifies the return, and
// a query confirms it (the return is advisory).
func TestCompleteH5DrivesTheBanksPages(t *testing.T) {
	sb := wallettest.NewServer(t)
	c := sb.Client()
	b := h5.New(c)
	p := wallettest.Person()
	back := "https://merchant.example/wallet/back?order=42;lang=zh"

	link, err := b.URL(ctx, h5.OpenPage{Common: h5.Common{UserID: p.UserID, ReturnURL: back},
		Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile, CardNo: p.CardNo})
	require.NoError(t, err)
	u, err := sb.CompleteH5(ctx, link, wallettest.H5Input{PIN: wallettest.TestPIN})
	require.NoError(t, err)
	require.Contains(t, u.RawQuery, "order=42;lang=zh", "the merchant's own parameters come back as they were")
	r, err := b.VerifyReturn(u)
	require.NoError(t, err)
	require.Equal(t, h5.ResultSuccess, r.Result)
	a, err := account.New(c).Query(ctx, r.AccountNo)
	require.NoError(t, err, "confirmed by a query")
	require.Equal(t, wallet.AccountNormal, a.Status)

	// A fixed amount on a recharge link is the flow's amount.
	no := payment.NewOutTradeNo()
	link, err = b.URL(ctx, h5.RechargePage{Common: h5.Common{UserID: p.UserID, ReturnURL: back}, AccountNo: a.AccountNo, OutTradeNo: no, Amount: 50_00})
	require.NoError(t, err)
	_, err = sb.CompleteH5(ctx, link, wallettest.H5Input{Amount: 9_999_00})
	require.ErrorContains(t, err, "fixes the amount", "the page has no amount to type")
	link, err = b.URL(ctx, h5.RechargePage{Common: h5.Common{UserID: p.UserID, ReturnURL: back}, AccountNo: a.AccountNo, OutTradeNo: no, Amount: 50_00})
	require.NoError(t, err)
	u, err = sb.CompleteH5(ctx, link, wallettest.H5Input{})
	require.NoError(t, err)
	_, err = b.VerifyReturn(u)
	require.NoError(t, err)
	o, err := payment.New(c).Query(ctx, no)
	require.NoError(t, err)
	require.Equal(t, int64(50_00), o.Amount, "the user cannot type over the merchant's amount")

	// A wrong PIN is a refused step, named.
	link, err = b.URL(ctx, h5.PayPage{Common: h5.Common{UserID: p.UserID, ReturnURL: back}, AccountNo: a.AccountNo,
		OutTradeNo: payment.NewOutTradeNo(), Amount: 1_00, Subject: "会员月卡"})
	require.NoError(t, err)
	_, err = sb.CompleteH5(ctx, link, wallettest.H5Input{PIN: "000001"})
	var pe *wallettest.H5PageError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Equal(t, "pay", pe.Page)
	require.Equal(t, "step", pe.Kind)

	// The same link twice: the bank refuses the reuse.
	_, err = sb.CompleteH5(ctx, link, wallettest.H5Input{PIN: wallettest.TestPIN})
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Equal(t, "reused", pe.Kind)
}

func TestMerchantsListsNotifyURLs(t *testing.T) {
	sb := wallettest.NewServer(t)
	ms := sb.Merchants()
	require.Len(t, ms, 1)
	require.Contains(t, ms[0].NotifyURL, "/notify", "the built-in receiver")
	sb.SetNotifyURL("http://127.0.0.1:9/elsewhere")
	require.Equal(t, "http://127.0.0.1:9/elsewhere", sb.Merchants()[0].NotifyURL)
}
