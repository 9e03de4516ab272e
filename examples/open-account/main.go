// Command open-account opens a user's Class II e-account through the API:
// the four-factor check, the SMS code, the face photo and the PIN, and shows
// how a merchant handles the bank's refusals on the way.
//
//	go run ./examples/open-account                                 # a sandbox embedded in the program
//	go run ./examples/open-account -base-url http://127.0.0.1:8360 # a standalone one (go run ./examples/sandbox)
//
// The person is made up (wallettest.Person) and passes the sandbox's check.
// The program registers a merchant of its own with the sandbox (a fresh
// TEST key, a unique app id) and leaves the built-in test merchant alone.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "open-account:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("open-account", flag.ContinueOnError)
	baseURL := fs.String("base-url", "", "a standalone sandbox, e.g. http://127.0.0.1:8360 (default: one embedded in this program)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sb, err := wallettest.Connect(ctx, *baseURL, wallettest.WithAppName("open-account"))
	if err != nil {
		return err
	}
	defer sb.Close()
	fmt.Fprintf(out, "on the sandbox at %s as app %s\n", sb.URL, sb.Config.AppID)
	c, err := wallet.NewClient(sb.Config)
	if err != nil {
		return err
	}
	svc := account.New(c)
	p := wallettest.Person()

	// 1. Has this person a wallet already? (我的钱包)
	w, err := c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	if err != nil {
		return err
	}
	if w.Opened {
		fmt.Fprintf(out, "%s already has account %s\n", p.Name, w.Account.AccountNo)
		return nil
	}

	// 2. Bad input never leaves the process: the error names the field.
	_, err = svc.Verify(ctx, account.VerifyRequest{Name: p.Name, IDNumber: "110101199003074515", CardNo: p.CardNo, Mobile: p.Mobile})
	var fe *wallet.FieldError
	if errors.As(err, &fe) {
		fmt.Fprintf(out, "a mistyped identity number is caught locally: field %s %s\n", fe.Field, fe.Reason)
	}

	// 3. The four factors, checked with the card's issuer.
	v, err := svc.Verify(ctx, account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile})
	switch {
	case errors.Is(err, wallet.ErrFourFactorMismatch):
		return errors.New("the name, ID, card and mobile do not belong together: ask the user to check them")
	case errors.Is(err, wallet.ErrCardNotSupported):
		return errors.New("only debit cards can be bound: ask for a debit card")
	case errors.Is(err, wallet.ErrAgeRestricted):
		return errors.New("applicants must be 16 or older")
	case err != nil:
		return err
	}
	fmt.Fprintf(out, "four factors of %s match: %s %s card\n", p.Name, v.BankName, v.CardType)

	// 4. The SMS code to the mobile reserved on the card.
	sms, err := svc.SendSMS(ctx, account.SendSMSRequest{Mobile: p.Mobile, Scene: account.SceneOpen})
	if errors.Is(err, wallet.ErrSMSTooFrequent) {
		return errors.New("one SMS a minute: ask the user to wait")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "SMS sent to %s (the sandbox's code is 123456)\n", p.Mobile)

	// 5. Open, with the face photo and the PIN the user chose. In production
	// the user's device encrypts the PIN to the key c.PINKey describes, so
	// the digits never reach the merchant; this demo encrypts test PINs
	// here. A weak PIN is refused by the bank.
	weak, err := c.EncryptPIN("123456")
	if err != nil {
		return err
	}
	req := account.OpenRequest{UserID: p.UserID, VerifyToken: v.Token, Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo,
		Mobile: p.Mobile, SMSSerial: sms.Serial, SMSCode: "123456", FaceImage: wallettest.Face(), Password: weak}
	if _, err := svc.OpenAccount(ctx, req); errors.Is(err, wallet.ErrPasswordWeak) {
		fmt.Fprintln(out, "PIN 123456 refused as weak; the token and the SMS code stay valid for a second try")
	} else if err != nil {
		return err
	}
	if req.Password, err = c.EncryptPIN(wallettest.TestPIN); err != nil {
		return err
	}
	a, err := svc.OpenAccount(ctx, req)
	switch {
	case errors.Is(err, wallet.ErrAccountAlreadyOpened):
		return errors.New("one account per person per merchant: query it instead")
	case errors.Is(err, wallet.ErrFaceMismatch):
		return errors.New("the face check failed: ask for a clearer photo")
	case wallet.IsOutcomeUnknown(err):
		return fmt.Errorf("no trustworthy answer; wallet/query tells whether the account exists: %w", err)
	case err != nil:
		return err
	}
	fmt.Fprintf(out, "account %s opened (%s), card %s bound\n", a.AccountNo, a.Status, a.BoundCard.CardNoMasked)

	got, err := svc.Query(ctx, a.AccountNo)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "account/query: balance ¥%d.%02d, daily limit ¥%d\n", got.Balance/100, got.Balance%100, got.Limits.DailyLimit/100)
	return nil
}
