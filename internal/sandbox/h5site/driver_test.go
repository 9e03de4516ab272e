package h5site_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/sandbox"
)

// TestCompleteH5EveryPage: Bank.CompleteH5 runs every page through its own
// handlers — success, a wrong PIN, and cancel — and returns the signed
// return redirect, or what the page said.
func TestCompleteH5EveryPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // PIN tries and verification counts are per business day
	type outcome struct {
		result string // the return's result, or ""
		err    string // else: part of the error
	}
	for _, tc := range []struct {
		page string
		// link makes a fresh link to the page (a fresh account where it
		// needs one); check looks at the bank after a success.
		link    func() (string, string, person) // link, account, holder
		success sandbox.H5Input
		check   func(t *testing.T, acct string, back map[string]string)
		wrong   sandbox.H5Input
		wrongIs outcome
		cancel  outcome
	}{
		{
			page: "open",
			link: func() (string, string, person) {
				p := f.person()
				return f.link("open", f.openData(nonce(), p.prefill())), "", p
			},
			success: sandbox.H5Input{PIN: goodPIN},
			check: func(t *testing.T, _ string, back map[string]string) {
				require.Regexp(t, `^623688\d{10}$`, back["account_no"])
				require.Equal(t, int64(0), f.balance(back["account_no"]))
			},
			// On open the PIN is a new one: a weak one is refused.
			wrong:   sandbox.H5Input{PIN: "123456"},
			wrongIs: outcome{err: "交易密码过于简单"},
			cancel:  outcome{result: "CANCELLED"},
		},
		{
			page: "wallet",
			link: func() (string, string, person) {
				acct, p := f.newAccount()
				return f.link("wallet", map[string]string{"account_no": acct}), acct, p
			},
			check: func(t *testing.T, acct string, back map[string]string) {
				require.Equal(t, acct, back["account_no"])
			},
			wrong:   sandbox.H5Input{PIN: "000000"},
			wrongIs: outcome{err: "asks for no PIN"},
			cancel:  outcome{err: "has no cancel button"},
		},
		{
			page: "recharge",
			link: func() (string, string, person) {
				acct, p := f.newAccount()
				return f.link("recharge", map[string]string{"account_no": acct, "out_trade_no": f.orderNo()}), acct, p
			},
			success: sandbox.H5Input{Amount: 12_345},
			check: func(t *testing.T, acct string, back map[string]string) {
				require.Equal(t, int64(12_345), f.balance(acct))
				require.True(t, f.ledgerHas(acct, "RECHARGE", back["out_trade_no"]))
			},
			wrong:   sandbox.H5Input{PIN: "000000", Amount: 1},
			wrongIs: outcome{err: "asks for no PIN"},
			cancel:  outcome{result: "CANCELLED"},
		},
		{
			page: "withdraw",
			link: func() (string, string, person) {
				acct, p := f.newAccount()
				f.recharge(acct, 10_000)
				return f.link("withdraw", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(), "amount": "2500"}), acct, p
			},
			success: sandbox.H5Input{PIN: goodPIN},
			check: func(t *testing.T, acct string, _ map[string]string) {
				require.Equal(t, int64(7_500), f.balance(acct))
			},
			wrong:   sandbox.H5Input{PIN: "975310"},
			wrongIs: outcome{err: "密码错误，今日还可尝试 4 次"},
			cancel:  outcome{result: "CANCELLED"},
		},
		{
			page: "pay",
			link: func() (string, string, person) {
				acct, p := f.newAccount()
				f.recharge(acct, 10_000)
				return f.link("pay", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(), "amount": "990",
					"subject": "会员月卡 & 礼包"}), acct, p
			},
			success: sandbox.H5Input{PIN: goodPIN},
			check: func(t *testing.T, acct string, back map[string]string) {
				require.Equal(t, int64(9_010), f.balance(acct))
				require.True(t, f.ledgerHas(acct, "PAY", back["out_trade_no"]))
			},
			wrong:   sandbox.H5Input{PIN: "975310"},
			wrongIs: outcome{err: "密码错误，今日还可尝试 4 次"},
			cancel:  outcome{result: "CANCELLED"},
		},
		{
			page: "card",
			link: func() (string, string, person) {
				acct, p := f.newAccount()
				return f.link("card", map[string]string{"account_no": acct}), acct, p
			},
			success: sandbox.H5Input{PIN: goodPIN, CardNo: cardNumber("6228", 4242), Mobile: "13622223333"},
			check: func(t *testing.T, acct string, _ map[string]string) {
				pg := f.browser().open(f.link("wallet", map[string]string{"account_no": acct}))
				require.Contains(t, pg.body, "中国农业银行")
			},
			wrong:   sandbox.H5Input{PIN: "975310", CardNo: cardNumber("6228", 4243), Mobile: "13622224444"},
			wrongIs: outcome{err: "密码错误，今日还可尝试 4 次"},
			cancel:  outcome{result: "CANCELLED"},
		},
		{
			page: "password",
			link: func() (string, string, person) {
				acct, p := f.newAccount()
				return f.link("password", map[string]string{"account_no": acct}), acct, p
			},
			success: sandbox.H5Input{PIN: "246801", Face: jpegOf(t, colourImage(96, 96))},
			check: func(t *testing.T, acct string, _ map[string]string) {
				f.recharge(acct, 100)
				back := f.complete(f.link("pay", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(),
					"amount": "1", "subject": "s"}), sandbox.H5Input{PIN: "246801"})
				require.Equal(t, "SUCCESS", back["result"], "the new PIN pays")
			},
			wrong:   sandbox.H5Input{PIN: "111111"},
			wrongIs: outcome{err: "交易密码过于简单"},
			cancel:  outcome{result: "CANCELLED"},
		},
		{
			page: "close",
			link: func() (string, string, person) {
				acct, p := f.newAccount()
				return f.link("close", map[string]string{"account_no": acct}), acct, p
			},
			success: sandbox.H5Input{PIN: goodPIN},
			check: func(t *testing.T, acct string, _ map[string]string) {
				pg := f.browser().open(f.link("wallet", map[string]string{"account_no": acct}))
				require.Contains(t, pg.body, "已销户")
			},
			wrong:   sandbox.H5Input{PIN: "975310"},
			wrongIs: outcome{err: "密码错误，今日还可尝试 4 次"},
			cancel:  outcome{result: "CANCELLED"},
		},
	} {
		t.Run(tc.page, func(t *testing.T) {
			run := func(in sandbox.H5Input) (map[string]string, string, error) {
				link, acct, p := tc.link()
				if tc.page == "password" && in.PIN != "" {
					in.IDNumber = p.id // the holder's, as the page asks
				}
				to, err := f.bank.CompleteH5(t.Context(), link, in)
				if err != nil {
					return nil, acct, err
				}
				back := f.verifyReturn(to, sandbox.DefaultAppID, sandbox.DefaultMerchantID)
				require.Equal(t, tc.page, back["page"])
				return back, acct, nil
			}
			expect := func(what string, want outcome, back map[string]string, err error) {
				if want.err != "" {
					require.ErrorContains(t, err, want.err, what)
					return
				}
				require.NoError(t, err, what)
				require.Equal(t, want.result, back["result"], what)
			}

			back, acct, err := run(tc.success)
			require.NoError(t, err)
			require.Equal(t, "SUCCESS", back["result"])
			if acct != "" && tc.page != "open" {
				if tc.page == "recharge" || tc.page == "withdraw" || tc.page == "pay" {
					require.NotEmpty(t, back["out_trade_no"])
				} else {
					require.Equal(t, acct, back["account_no"])
				}
			}
			tc.check(t, acct, back)

			back, _, err = run(tc.wrong)
			expect("wrong PIN", tc.wrongIs, back, err)
			var pe *sandbox.H5PageError
			if errors.As(err, &pe) {
				require.Equal(t, tc.page, pe.Page)
				require.Equal(t, "step", pe.Kind)
			}

			back, _, err = run(sandbox.H5Input{Cancel: true})
			expect("cancel", tc.cancel, back, err)
		})
	}
}

// TestCompleteH5Refusals: a refused link is an error page, named by its
// kind; a flow that fails for good returns FAILED, as a user pressing
// 返回商户 would.
func TestCompleteH5Refusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	link := f.link("wallet", map[string]string{"account_no": acct})
	f.complete(link, sandbox.H5Input{})
	_, err := f.bank.CompleteH5(t.Context(), link, sandbox.H5Input{})
	var pe *sandbox.H5PageError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, sandbox.H5PageError{Kind: "reused", Message: "链接已被使用：为保障您的资金安全，每个链接只能打开一次。"}, *pe)

	_, err = f.bank.CompleteH5(t.Context(), "http://elsewhere.example"+f.link("wallet", map[string]string{"account_no": "6236889999999999"}), sandbox.H5Input{})
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "account", pe.Kind, "the link's host is not the bank's business")

	require.NoError(t, f.bank.Freeze(acct))
	back := f.complete(f.link("pay", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(), "amount": "1", "subject": "s"}),
		sandbox.H5Input{PIN: goodPIN})
	require.Equal(t, "FAILED", back["result"])

	_, err = f.bank.CompleteH5(t.Context(), f.link("pay", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(),
		"amount": "1", "subject": "s"}), sandbox.H5Input{PIN: goodPIN, Face: []byte{1}})
	require.ErrorContains(t, err, "asks for no face photo")
}
