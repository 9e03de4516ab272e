package sandbox

import (
	"github.com/xinyun-open/ewallet-go/internal/mask"
)

// The JSON objects of docs/protocol.md ("Objects"). Field order follows the
// documentation so that answers read like it; times are protocol strings
// and a time that has not happened is left out.

type boundCardView struct {
	BankName     string `json:"bank_name"`
	CardNoMasked string `json:"card_no_masked"`
}

type limitsView struct {
	DailyInUsed   int64 `json:"daily_in_used"`
	DailyOutUsed  int64 `json:"daily_out_used"`
	YearlyInUsed  int64 `json:"yearly_in_used"`
	YearlyOutUsed int64 `json:"yearly_out_used"`
	DailyLimit    int64 `json:"daily_limit"`
	YearlyLimit   int64 `json:"yearly_limit"`
}

// accountView is the Account object; Opened is set only by wallet/query and
// Limits only by account/query (and the control API).
type accountView struct {
	Opened           *bool         `json:"opened,omitempty"`
	AccountNo        string        `json:"account_no"`
	UserID           string        `json:"user_id"`
	Status           string        `json:"status"`
	NameMasked       string        `json:"name_masked"`
	Balance          int64         `json:"balance"`
	AvailableBalance int64         `json:"available_balance"`
	BoundCard        boundCardView `json:"bound_card"`
	OpenedAt         string        `json:"opened_at"`
	ClosedAt         string        `json:"closed_at,omitempty"`
	Limits           *limitsView   `json:"limits,omitempty"`
}

type notOpenedView struct {
	Opened bool `json:"opened"`
}

type orderView struct {
	OutTradeNo     string `json:"out_trade_no"`
	TradeNo        string `json:"trade_no"`
	Type           string `json:"type"`
	AccountNo      string `json:"account_no"`
	PayeeAccountNo string `json:"payee_account_no,omitempty"`
	Subject        string `json:"subject,omitempty"`
	Amount         int64  `json:"amount"`
	RefundedAmount int64  `json:"refunded_amount"`
	Status         string `json:"status"`
	CreatedAt      string `json:"created_at"`
	FinishedAt     string `json:"finished_at,omitempty"`
}

type refundView struct {
	OutRefundNo string `json:"out_refund_no"`
	RefundNo    string `json:"refund_no"`
	OutTradeNo  string `json:"out_trade_no"`
	Amount      int64  `json:"amount"`
	Status      string `json:"status"`
	RefundedAt  string `json:"refunded_at"`
}

type smsView struct {
	SMSSerial string `json:"sms_serial"`
	ExpiresIn int64  `json:"expires_in"`
}

type verifyView struct {
	VerifyToken string `json:"verify_token"`
	BankName    string `json:"bank_name"`
	CardType    string `json:"card_type"`
}

type cardChangeView struct {
	BoundCard boundCardView `json:"bound_card"`
}

type resetView struct {
	ResetAt string `json:"reset_at"`
}

type closeView struct {
	ClosedAt string `json:"closed_at"`
}

// view is the Account object without limits, as account/open answers and
// the ACCOUNT_* notifications carry it.
func (a *account) view() accountView {
	v := accountView{
		AccountNo:        a.No,
		UserID:           a.UserID,
		Status:           a.Status,
		NameMasked:       mask.Name(a.Name),
		Balance:          a.Balance,
		AvailableBalance: a.Balance,
		BoundCard:        a.boundCard(),
		OpenedAt:         formatTime(a.OpenedAt),
		ClosedAt:         formatTime(a.ClosedAt),
	}
	if a.Status != statusNormal {
		// A frozen account holds its money but none of it can move.
		v.AvailableBalance = 0
	}
	return v
}

func (a *account) boundCard() boundCardView {
	return boundCardView{BankName: a.BankName, CardNoMasked: mask.Card(a.CardNo)}
}

func (a *account) limits(now timeKeys) *limitsView {
	u := a.usage(now)
	return &limitsView{
		DailyInUsed: u.DayIn, DailyOutUsed: u.DayOut,
		YearlyInUsed: u.YearIn, YearlyOutUsed: u.YearOut,
		DailyLimit: dailyLimit, YearlyLimit: yearlyLimit,
	}
}

func (o *order) view() orderView {
	return orderView{
		OutTradeNo:     o.OutTradeNo,
		TradeNo:        o.TradeNo,
		Type:           o.Type,
		AccountNo:      o.AccountNo,
		PayeeAccountNo: o.PayeeAccountNo,
		Subject:        o.Subject,
		Amount:         o.Amount,
		RefundedAmount: o.RefundedAmount,
		Status:         o.Status,
		CreatedAt:      formatTime(o.CreatedAt),
		FinishedAt:     formatTime(o.FinishedAt),
	}
}

func (r *refund) view() refundView {
	return refundView{
		OutRefundNo: r.OutRefundNo,
		RefundNo:    r.RefundNo,
		OutTradeNo:  r.OutTradeNo,
		Amount:      r.Amount,
		Status:      r.Status,
		RefundedAt:  formatTime(r.RefundedAt),
	}
}
