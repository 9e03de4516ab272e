// Package payment moves money in and out of users' e-accounts: recharge from
// the bound card, withdraw to it, pay the merchant, transfer to another user
// of the channel, refund, and query orders and refunds.
//
//	pay := payment.New(client)
//	req := payment.PayRequest{
//		AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 990, // fen
//		Subject: "会员月卡", Password: pinFromTheApp, // encrypted on the user's device
//	}
//	msgID := wallet.NewMsgID()
//	orders.Save(ctx, req, msgID) // yours: number and msg_id are known before the call
//	o, err := pay.Pay(ctx, req, wallet.WithMsgID(msgID))
//	if wallet.IsOutcomeUnknown(err) {
//		o, err = pay.Resolve(ctx, req, msgID) // never a new OutTradeNo
//	}
//
// Money is int64 fen. Pay and Transfer count against the account's daily and
// yearly limits (10,000 and 200,000 CNY), transfers in against the payee's;
// recharge, withdrawal and refunds do not.
//
// # Idempotency and unknown outcomes
//
// OutTradeNo and OutRefundNo are yours and unique per merchant: record
// them, with the request, before you call. Sending the same request again
// returns the existing order instead of moving money twice; the same number
// with other parameters gets wallet.ErrOrderConflict. A call that failed
// with a business error records nothing, and its number stays free.
//
// When a money call fails with wallet.IsOutcomeUnknown(err) true — the
// request may have reached the bank but no trustworthy answer came back —
// never retry under a new number. Resolve (ResolveRefund for refunds)
// settles it by the protocol's rule: it queries the order by its number;
// an order found is the outcome; wallet.ErrOrderNotFound means the bank
// never acted, so it sends the same request again, under the original
// msg_id when you give it (the TransportError carries it), and repeats
// while the outcome stays unknown. Both paths end with the money moved
// exactly once.
//
// The context of a failed call is often an HTTP request of your own that
// has ended (the user closed the app): Resolve does not stop when its
// context is cancelled, so a payment the bank made is not reported as
// "canceled"; it is bounded by ResolveTimeout instead.
//
// A PROCESSING order (banks that finish asynchronously; never in the
// sandbox) ends as SUCCESS or FAILED: learn it from the notification or
// from Query.
//
// # Crashes and many instances
//
// WithJournal records every money call before it is sent and its outcome
// after, so that a process that dies in between leaves a pending entry;
// Recover, run when a process starts, settles every pending entry with
// Resolve. FileJournal keeps the journal in a local file (one process);
// the nested modules wallet/redisstore and wallet/sqlstore keep one that
// every instance shares.
//
// # Errors
//
// Bad input is caught before any network call as a *wallet.FieldError that
// names the field. The bank's refusals match the sentinels of package
// wallet with errors.Is: wallet.ErrInsufficientBalance,
// wallet.ErrDailyLimitExceeded, wallet.ErrPasswordIncorrect, ...
//
// # Notifications
//
// Every successful money call is also notified to the merchant
// (RECHARGE_SUCCEEDED, WITHDRAW_SUCCEEDED, PAYMENT_SUCCEEDED,
// TRANSFER_SUCCEEDED, REFUND_SUCCEEDED) with the same Order or Refund the
// call returned; see package wallet/notify.
//
// # Testing
//
// wallettest.NewServer(t) runs the sandbox bank: OpenAccount and Recharge
// prepare an account, AdvanceClock moves its business day for the limits,
// InjectFault makes it drop connections or corrupt signatures to test the
// unknown-outcome path, Ledger shows every balance change. With
// wallettest.MockBank, OrderReply and RefundReply answer money calls with
// the order the bank would make.
package payment
