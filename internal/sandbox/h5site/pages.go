package h5site

import (
	"github.com/xinyun-open/ewallet-go/internal/rules"
)

// page is one H5 page of docs/protocol.md section 9: everything the site
// does differently per page is a field here, so that adding or changing a
// page is one entry of pageTable and its template, not a case in every
// switch of the site.
type page struct {
	// name is the page's path segment (/h5/{name}) and its template.
	name string
	// title heads the page; failHead heads its result page when the flow
	// cannot succeed any more.
	title, failHead string
	// fields are the page's own link fields, beside the envelope and the
	// fields of every link (user_id, return_url, notify_url). A field not
	// listed is refused: a typo in a hand-built link is caught.
	fields []linkField
	// data: the link may carry encrypted prefill (open).
	data bool
	// typed are the form fields kept between steps and shown again, so
	// that the user need not type them twice. Never a PIN.
	typed []string
	// face: the page takes a face photo (its form is multipart).
	face bool
	// scene is the SMS scene of the page's 发送验证码 button ("" for none);
	// smsToHolder: the SMS goes to the mobile the bank holds for the
	// account, not to one typed on the page.
	scene       string
	smsToHolder bool
	// pin is the PIN the page asks for.
	pin pinKind
	// amount is how a money page's amount is set.
	amount amountKind
	// returns names what the return redirect carries besides the result:
	// "out_trade_no" or "account_no".
	returns string
	// fromWallet: the wallet page links to it; such a flow returns to the
	// wallet, not to the merchant.
	fromWallet bool
	// cancel: the page has a cancel button (every page but the wallet,
	// whose only way out is 返回商户).
	cancel bool
	// show adds the page's own data to its view; post runs a submit of
	// the page (the common actions — cancel, SMS, face — are done before).
	show func(st *step, v *view)
	post func(st *step)
}

// pinKind is the PIN a page asks for.
type pinKind int

const (
	noPIN      pinKind = iota
	accountPIN         // the account's PIN, once ("pin")
	newPIN             // a new PIN, typed twice ("pin", "pin2")
)

// amountKind is how a money page's amount is set (docs/protocol.md,
// section 9).
type amountKind int

const (
	noAmount amountKind = iota
	// linkOrTyped: the link's amount when it has one, which the user
	// cannot change; else the user types one.
	linkOrTyped
	// linkOnly: the link must set it (pay).
	linkOnly
)

// Return fields: what a page's return redirect carries.
const (
	returnsOrder   = "out_trade_no"
	returnsAccount = "account_no"
)

// linkField is one field of a page's link.
type linkField struct {
	name     string
	required bool
	check    func(string) error
}

// pageTable is the eight pages. A function, not a variable: the table is
// built once per Site and nothing can change it afterwards.
func pageTable() map[string]*page {
	account := linkField{"account_no", true, rules.AccountNo}
	order := linkField{"out_trade_no", true, rules.OrderNo}
	list := []*page{
		{
			name: "open", title: "开通电子账户", failHead: "开户失败",
			data:  true,
			typed: []string{"name", "id_number", "mobile", "card_no", "sms_code"},
			face:  true, scene: "OPEN", pin: newPIN,
			returns: returnsAccount, cancel: true,
			post: postOpen,
		},
		{
			name: "wallet", title: "我的钱包",
			fields:  []linkField{account},
			returns: returnsAccount,
			show:    showWallet, post: postWallet,
		},
		{
			name: "recharge", title: "充值", failHead: "充值失败",
			fields:  []linkField{account, order, {"amount", false, amountRule}},
			typed:   []string{"amount"},
			amount:  linkOrTyped,
			returns: returnsOrder, fromWallet: true, cancel: true,
			post: postRecharge,
		},
		{
			name: "withdraw", title: "提现", failHead: "提现失败",
			fields:  []linkField{account, order, {"amount", false, amountRule}},
			typed:   []string{"amount"},
			pin:     accountPIN,
			amount:  linkOrTyped,
			returns: returnsOrder, fromWallet: true, cancel: true,
			post: postWithdraw,
		},
		{
			name: "pay", title: "确认付款", failHead: "支付失败",
			fields:  []linkField{account, order, {"amount", true, amountRule}, {"subject", true, subjectRule}},
			pin:     accountPIN,
			amount:  linkOnly,
			returns: returnsOrder, cancel: true,
			post: postPay,
		},
		{
			name: "card", title: "更换绑定卡", failHead: "换卡失败",
			fields: []linkField{account},
			typed:  []string{"card_no", "mobile", "sms_code"},
			scene:  "CHANGE_CARD", pin: accountPIN,
			returns: returnsAccount, fromWallet: true, cancel: true,
			post: postCard,
		},
		{
			name: "password", title: "重置交易密码", failHead: "重置失败",
			fields: []linkField{account},
			typed:  []string{"id_number", "sms_code"},
			face:   true, scene: "RESET_PASSWORD", smsToHolder: true, pin: newPIN,
			returns: returnsAccount, fromWallet: true, cancel: true,
			post: postPassword,
		},
		{
			name: "close", title: "注销电子账户", failHead: "销户失败",
			fields: []linkField{account},
			typed:  []string{"sms_code"},
			scene:  "CLOSE", smsToHolder: true, pin: accountPIN,
			returns: returnsAccount, fromWallet: true, cancel: true,
			show: showClose, post: postClose,
		},
	}
	m := make(map[string]*page, len(list))
	for _, p := range list {
		m[p.name] = p
	}
	return m
}

// pageNames lists the pages in the order of docs/protocol.md section 9.
func pageNames() []string {
	return []string{"open", "wallet", "recharge", "withdraw", "pay", "card", "password", "close"}
}

// subjectRule is the API's rule for subject (docs/protocol.md).
func subjectRule(s string) error { return rules.Text(s, 128) }
