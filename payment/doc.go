// Package payment moves money in and out of users' e-accounts: recharge from
// the bound card, withdraw to it, pay the merchant, transfer to another user
// of the channel, refund, and query orders and refunds.
//
//	pay := payment.New(client)
//	pin, _ := client.EncryptPIN(typedPIN)
//	o, err := pay.Pay(ctx, payment.PayRequest{
//		AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 990, // fen
//		Subject: "会员月卡", Password: pin,
//	})
//
// Money is int64 fen. Pay and Transfer count against the account's daily and
// yearly limits (10,000 and 200,000 CNY), transfers in against the payee's;
// recharge, withdrawal and refunds do not.
//
// # Idempotency and unknown outcomes
//
// OutTradeNo and OutRefundNo are yours and unique per merchant. Sending the
// same request again returns the existing order instead of moving money
// twice; the same number with other parameters gets
// wallet.ErrOrderConflict. A call that failed with a business error
// records nothing, and its number stays free.
//
// When a money call fails with wallet.IsOutcomeUnknown(err) true — the
// request may have reached the bank but no trustworthy answer came back —
// never retry under a new number. Either:
//
//   - Query(ctx, outTradeNo): an order means it took effect (look at its
//     Status); wallet.ErrOrderNotFound means it did not, so
//   - send the same request again (same OutTradeNo, same parameters): the
//     bank either creates the order now or returns the one it has.
//
// Both paths end with the money moved exactly once. A PROCESSING order
// (banks that finish asynchronously; never in the sandbox) ends as SUCCESS
// or FAILED: learn it from the notification or from Query.
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
// call returned; see wallet.Client.NotificationHandler.
//
// # Testing
//
// wallettest.NewServer(t) runs the sandbox bank: OpenAccount and Recharge
// prepare an account, AdvanceClock moves its business day for the limits,
// InjectFault makes it drop connections or corrupt signatures to test the
// unknown-outcome path, Ledger shows every balance change.
package payment
