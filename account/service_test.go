package account_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// End-to-end tests against the sandbox bank, one per method and error code.

type journey struct {
	t   *testing.T
	sb  *wallettest.Server
	c   *wallet.Client
	svc *account.Service
	p   wallettest.TestPerson
}

func newJourney(t *testing.T) *journey {
	t.Parallel()
	sb := wallettest.NewServer(t)
	c := sb.Client()
	return &journey{t: t, sb: sb, c: c, svc: account.New(c), p: wallettest.Person()}
}

func (j *journey) verify() *account.Verification {
	j.t.Helper()
	v, err := j.svc.Verify(ctx, account.VerifyRequest{Name: j.p.Name, IDNumber: j.p.IDNumber, CardNo: j.p.CardNo, Mobile: j.p.Mobile})
	require.NoError(j.t, err)
	return v
}

func (j *journey) sms(mobile wallet.Mobile, scene account.Scene) *account.SMS {
	j.t.Helper()
	s, err := j.svc.SendSMS(ctx, account.SendSMSRequest{Mobile: mobile, Scene: scene})
	require.NoError(j.t, err)
	return s
}

// openRequest verifies and texts afresh. It moves the business clock three
// hours first, so that the bank's SMS budgets (one a minute, ten a day)
// never decide a test that is about something else.
func (j *journey) openRequest() account.OpenRequest {
	j.t.Helper()
	j.sb.AdvanceClock(3 * time.Hour)
	v := j.verify()
	s := j.sms(j.p.Mobile, account.SceneOpen)
	return account.OpenRequest{UserID: j.p.UserID, VerifyToken: v.Token, Name: j.p.Name, IDNumber: j.p.IDNumber,
		CardNo: j.p.CardNo, Mobile: j.p.Mobile, SMSSerial: s.Serial, SMSCode: "123456",
		FaceImage: wallettest.Face(), Password: wallettest.PIN(j.t, j.c)}
}

func (j *journey) open() *wallet.Account {
	j.t.Helper()
	a, err := j.svc.OpenAccount(ctx, j.openRequest())
	require.NoError(j.t, err)
	return a
}

func TestOpenJourney(t *testing.T) {
	j := newJourney(t)
	w, err := j.c.Query(ctx, wallet.QueryRequest{IDNumber: j.p.IDNumber, Mobile: j.p.Mobile, UserID: j.p.UserID})
	require.NoError(t, err)
	require.False(t, w.Opened)

	v := j.verify()
	require.NotEmpty(t, v.Token)
	require.Equal(t, account.CardDebit, v.CardType)
	require.NotEmpty(t, v.BankName)
	s := j.sms(j.p.Mobile, account.SceneOpen)
	require.NotEmpty(t, s.Serial)
	require.Equal(t, 5*time.Minute, s.ExpiresIn)

	a, err := j.svc.OpenAccount(ctx, account.OpenRequest{UserID: j.p.UserID, VerifyToken: v.Token, Name: j.p.Name, IDNumber: j.p.IDNumber,
		CardNo: j.p.CardNo, Mobile: j.p.Mobile, SMSSerial: s.Serial, SMSCode: "123456", FaceImage: wallettest.Face(),
		Password: wallettest.PIN(t, j.c), Occupation: "工程师", Address: "南京市建邺区"})
	require.NoError(t, err)
	require.Regexp(t, `^623688\d{10}$`, a.AccountNo)
	require.Equal(t, wallet.AccountNormal, a.Status)
	require.Equal(t, string(j.p.CardNo[:4])+"********"+string(j.p.CardNo[len(j.p.CardNo)-4:]), a.BoundCard.CardNoMasked)
	require.False(t, a.OpenedAt.IsZero())

	w, err = j.c.Query(ctx, wallet.QueryRequest{IDNumber: j.p.IDNumber, Mobile: j.p.Mobile, UserID: j.p.UserID})
	require.NoError(t, err)
	require.True(t, w.Opened)
	require.Equal(t, a.AccountNo, w.Account.AccountNo)
	require.Equal(t, "*"+string([]rune(string(j.p.Name))[1:]), w.Account.NameMasked)

	got, err := j.svc.Query(ctx, a.AccountNo)
	require.NoError(t, err)
	require.NotNil(t, got.Limits)
	require.Equal(t, int64(1_000_000), got.Limits.DailyLimit)
	require.Equal(t, int64(20_000_000), got.Limits.YearlyLimit)
	require.Equal(t, j.p.UserID, got.UserID)

	n := j.sb.WaitNotification(func(n *notify.Event) bool { return n.Type == notify.AccountOpened })
	na, err := n.Account()
	require.NoError(t, err)
	require.Equal(t, a.AccountNo, na.AccountNo)
}

func TestVerifyErrors(t *testing.T) {
	j := newJourney(t)
	_, err := j.svc.Verify(ctx, account.VerifyRequest{Name: "李不符", IDNumber: j.p.IDNumber, CardNo: j.p.CardNo, Mobile: j.p.Mobile})
	require.ErrorIs(t, err, wallet.ErrFourFactorMismatch)
	_, err = j.svc.Verify(ctx, account.VerifyRequest{Name: j.p.Name, IDNumber: j.p.IDNumber, CardNo: j.p.CardNo, Mobile: "13912340000"})
	require.ErrorIs(t, err, wallet.ErrFourFactorMismatch)
	_, err = j.svc.Verify(ctx, account.VerifyRequest{Name: j.p.Name, IDNumber: j.p.IDNumber, CardNo: wallettest.CreditCard(), Mobile: j.p.Mobile})
	require.ErrorIs(t, err, wallet.ErrCardNotSupported)

	teen := wallettest.PersonBorn(time.Now().AddDate(-15, 0, 0))
	_, err = j.svc.Verify(ctx, account.VerifyRequest{Name: teen.Name, IDNumber: teen.IDNumber, CardNo: teen.CardNo, Mobile: teen.Mobile})
	require.ErrorIs(t, err, wallet.ErrAgeRestricted)

	// Five failures in a day for one identity number, then even the right
	// factors are refused until the next day.
	for i := 0; i < 3; i++ {
		_, err = j.svc.Verify(ctx, account.VerifyRequest{Name: "王不符", IDNumber: j.p.IDNumber, CardNo: j.p.CardNo, Mobile: j.p.Mobile})
		require.ErrorIs(t, err, wallet.ErrFourFactorMismatch)
	}
	_, err = j.svc.Verify(ctx, account.VerifyRequest{Name: j.p.Name, IDNumber: j.p.IDNumber, CardNo: j.p.CardNo, Mobile: j.p.Mobile})
	require.ErrorIs(t, err, wallet.ErrVerifyLimitExceeded)
	j.sb.AdvanceClock(24 * time.Hour)
	j.verify()
}

func TestSMSTooFrequent(t *testing.T) {
	j := newJourney(t)
	j.sms(j.p.Mobile, account.SceneOpen)
	_, err := j.svc.SendSMS(ctx, account.SendSMSRequest{Mobile: j.p.Mobile, Scene: account.SceneOpen})
	require.ErrorIs(t, err, wallet.ErrSMSTooFrequent)
	j.sms(j.p.Mobile, account.SceneClose) // another scene has its own budget
	for i := 1; i < 10; i++ {
		j.sb.AdvanceClock(time.Minute)
		j.sms(j.p.Mobile, account.SceneOpen)
	}
	j.sb.AdvanceClock(time.Minute)
	_, err = j.svc.SendSMS(ctx, account.SendSMSRequest{Mobile: j.p.Mobile, Scene: account.SceneOpen})
	require.ErrorIs(t, err, wallet.ErrSMSTooFrequent, "ten a day")
}

func TestOpenErrors(t *testing.T) {
	j := newJourney(t)

	t.Run("verify token", func(t *testing.T) {
		r := j.openRequest()
		r.VerifyToken = "VT-made-up"
		_, err := j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrVerifyTokenInvalid)
	})
	t.Run("token of other factors", func(t *testing.T) {
		r := j.openRequest()
		other := wallettest.Person()
		r.CardNo = other.CardNo
		_, err := j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrVerifyTokenInvalid)
	})
	t.Run("sms code", func(t *testing.T) {
		r := j.openRequest()
		r.SMSCode = "654321"
		_, err := j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrSMSCodeInvalid)
	})
	t.Run("sms expired", func(t *testing.T) {
		r := j.openRequest()
		j.sb.AdvanceClock(5*time.Minute + time.Second)
		_, err := j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrSMSCodeExpired)
	})
	t.Run("token expired", func(t *testing.T) {
		r := j.openRequest()
		j.sb.AdvanceClock(15*time.Minute + time.Second)
		r.SMSSerial = j.sms(j.p.Mobile, account.SceneOpen).Serial
		_, err := j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrVerifyTokenInvalid)
	})
	t.Run("five wrong codes void the serial", func(t *testing.T) {
		r := j.openRequest()
		r.SMSCode = "000001"
		for i := 0; i < 5; i++ {
			_, err := j.svc.OpenAccount(ctx, r)
			require.ErrorIs(t, err, wallet.ErrSMSCodeInvalid)
		}
		r.SMSCode = "123456"
		_, err := j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrSMSCodeExpired)
	})
	t.Run("code of another scene", func(t *testing.T) {
		r := j.openRequest()
		r.SMSSerial = j.sms(j.p.Mobile, account.SceneClose).Serial
		_, err := j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrSMSCodeInvalid)
	})
	t.Run("face", func(t *testing.T) {
		r := j.openRequest()
		r.FaceImage = wallettest.GrayFace()
		_, err := j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrFaceMismatch)
	})
	t.Run("weak PIN", func(t *testing.T) {
		r := j.openRequest()
		weak, err := j.c.EncryptPIN("123456")
		require.NoError(t, err)
		r.Password = weak
		_, err = j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrPasswordWeak)
	})
	t.Run("a failure uses up nothing, then opened, then again", func(t *testing.T) {
		r := j.openRequest()
		good := r.FaceImage
		r.FaceImage = wallettest.GrayFace()
		_, err := j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrFaceMismatch)
		r.FaceImage = good
		_, err = j.svc.OpenAccount(ctx, r)
		require.NoError(t, err, "the same token and SMS code still work after a failed open")
		_, err = j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrAccountAlreadyOpened)
		_, err = j.svc.OpenAccount(ctx, j.openRequest())
		require.ErrorIs(t, err, wallet.ErrAccountAlreadyOpened)
	})
	t.Run("token used up", func(t *testing.T) {
		jj := &journey{t: t, sb: j.sb, c: j.c, svc: j.svc, p: wallettest.Person()}
		r := jj.openRequest()
		a, err := j.svc.OpenAccount(ctx, r)
		require.NoError(t, err)
		s := jj.sms(jj.p.Mobile, account.SceneClose)
		_, err = j.svc.CloseAccount(ctx, account.CloseRequest{AccountNo: a.AccountNo, SMSSerial: s.Serial, SMSCode: "123456", Password: wallettest.PIN(t, j.c)})
		require.NoError(t, err)
		// With the account closed, the old token is the first thing refused.
		j.sb.AdvanceClock(time.Minute)
		r.SMSSerial = jj.sms(jj.p.Mobile, account.SceneOpen).Serial
		_, err = j.svc.OpenAccount(ctx, r)
		require.ErrorIs(t, err, wallet.ErrVerifyTokenInvalid)
	})
}

func TestChangeCard(t *testing.T) {
	j := newJourney(t)
	a := j.open()
	other := wallettest.Person()
	s := j.sms(other.Mobile, account.SceneChangeCard)
	card, err := j.svc.ChangeCard(ctx, account.ChangeCardRequest{AccountNo: a.AccountNo, CardNo: other.CardNo, Mobile: other.Mobile,
		SMSSerial: s.Serial, SMSCode: "123456", Password: wallettest.PIN(t, j.c)})
	require.NoError(t, err)
	require.Equal(t, string(other.CardNo[len(other.CardNo)-4:]), card.CardNoMasked[len(card.CardNoMasked)-4:])
	j.sb.WaitNotification(func(n *notify.Event) bool { return n.Type == notify.AccountCardChanged })

	j.sb.AdvanceClock(time.Minute)
	s = j.sms(other.Mobile, account.SceneChangeCard)
	_, err = j.svc.ChangeCard(ctx, account.ChangeCardRequest{AccountNo: a.AccountNo, CardNo: wallettest.CreditCard(), Mobile: other.Mobile,
		SMSSerial: s.Serial, SMSCode: "123456", Password: wallettest.PIN(t, j.c)})
	require.ErrorIs(t, err, wallet.ErrCardNotSupported)

	wrong, _ := j.c.EncryptPIN("246813")
	third := wallettest.Person()
	_, err = j.svc.ChangeCard(ctx, account.ChangeCardRequest{AccountNo: a.AccountNo, CardNo: third.CardNo, Mobile: other.Mobile,
		SMSSerial: s.Serial, SMSCode: "123456", Password: wrong})
	require.ErrorIs(t, err, wallet.ErrPasswordIncorrect)

	_, err = j.svc.ChangeCard(ctx, account.ChangeCardRequest{AccountNo: "6236889999999999", CardNo: third.CardNo, Mobile: other.Mobile,
		SMSSerial: s.Serial, SMSCode: "123456", Password: wallettest.PIN(t, j.c)})
	require.ErrorIs(t, err, wallet.ErrAccountNotFound)
}

func TestPasswordLockAndReset(t *testing.T) {
	j := newJourney(t)
	a := j.open()
	j.sb.Recharge(a.AccountNo, 10_000)
	pay := payment.New(j.c)
	wrong, _ := j.c.EncryptPIN("246813")
	for i := 0; i < 5; i++ {
		_, err := pay.Pay(ctx, payment.PayRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1, Subject: "s", Password: wrong})
		require.ErrorIs(t, err, wallet.ErrPasswordIncorrect, "attempt %d", i+1)
	}
	_, err := pay.Pay(ctx, payment.PayRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1, Subject: "s", Password: wallettest.PIN(t, j.c)})
	require.ErrorIs(t, err, wallet.ErrPasswordLocked, "locked even for the right PIN")

	newPIN, _ := j.c.EncryptPIN("802413")
	weak, _ := j.c.EncryptPIN("888888")
	s := j.sms(j.p.Mobile, account.SceneResetPassword)
	reset := account.ResetPasswordRequest{AccountNo: a.AccountNo, IDNumber: j.p.IDNumber, SMSSerial: s.Serial, SMSCode: "123456",
		FaceImage: wallettest.Face(), NewPassword: weak}
	_, err = j.svc.ResetPassword(ctx, reset)
	require.ErrorIs(t, err, wallet.ErrPasswordWeak)
	reset.NewPassword = newPIN
	reset.FaceImage = wallettest.GrayFace()
	_, err = j.svc.ResetPassword(ctx, reset)
	require.ErrorIs(t, err, wallet.ErrFaceMismatch)
	reset.FaceImage = wallettest.Face()
	reset.IDNumber = wallettest.Person().IDNumber
	_, err = j.svc.ResetPassword(ctx, reset)
	require.ErrorIs(t, err, wallet.ErrParamInvalid)
	reset.IDNumber = j.p.IDNumber
	at, err := j.svc.ResetPassword(ctx, reset)
	require.NoError(t, err)
	require.False(t, at.IsZero())

	_, err = pay.Pay(ctx, payment.PayRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1, Subject: "s", Password: newPIN})
	require.NoError(t, err, "the reset lifted the lock")
	_, err = j.svc.ResetPassword(ctx, reset)
	require.ErrorIs(t, err, wallet.ErrSMSCodeExpired, "the code was used up")
}

func TestLockLiftsAtMidnight(t *testing.T) {
	j := newJourney(t)
	a := j.open()
	j.sb.Recharge(a.AccountNo, 100)
	pay := payment.New(j.c)
	wrong, _ := j.c.EncryptPIN("246813")
	for i := 0; i < 5; i++ {
		_, _ = pay.Pay(ctx, payment.PayRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1, Subject: "s", Password: wrong})
	}
	_, err := pay.Pay(ctx, payment.PayRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1, Subject: "s", Password: wallettest.PIN(t, j.c)})
	require.ErrorIs(t, err, wallet.ErrPasswordLocked)
	j.sb.AdvanceClock(24 * time.Hour)
	_, err = pay.Pay(ctx, payment.PayRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1, Subject: "s", Password: wallettest.PIN(t, j.c)})
	require.NoError(t, err)
}

func TestClose(t *testing.T) {
	j := newJourney(t)
	a := j.open()
	j.sb.Recharge(a.AccountNo, 500)
	s := j.sms(j.p.Mobile, account.SceneClose)
	req := account.CloseRequest{AccountNo: a.AccountNo, SMSSerial: s.Serial, SMSCode: "123456", Password: wallettest.PIN(t, j.c)}
	_, err := j.svc.CloseAccount(ctx, req)
	require.ErrorIs(t, err, wallet.ErrBalanceNotZero)

	_, err = payment.New(j.c).Withdraw(ctx, payment.WithdrawRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 500, Password: wallettest.PIN(t, j.c)})
	require.NoError(t, err)
	closedAt, err := j.svc.CloseAccount(ctx, req)
	require.NoError(t, err)
	require.False(t, closedAt.IsZero())
	j.sb.WaitNotification(func(n *notify.Event) bool { return n.Type == notify.AccountClosed })

	got, err := j.svc.Query(ctx, a.AccountNo)
	require.NoError(t, err)
	require.Equal(t, wallet.AccountClosed, got.Status)
	require.False(t, got.ClosedAt.IsZero())
	_, err = payment.New(j.c).Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1})
	require.ErrorIs(t, err, wallet.ErrAccountClosed)

	w, err := j.c.Query(ctx, wallet.QueryRequest{IDNumber: j.p.IDNumber, Mobile: j.p.Mobile, UserID: j.p.UserID})
	require.NoError(t, err)
	require.False(t, w.Opened, "a closed account does not count: the person may open again")
	again := j.open()
	require.NotEqual(t, a.AccountNo, again.AccountNo)
}

func TestFrozenAccount(t *testing.T) {
	j := newJourney(t)
	a := j.open()
	j.sb.Recharge(a.AccountNo, 100)
	j.sb.Freeze(a.AccountNo)
	got, err := j.svc.Query(ctx, a.AccountNo)
	require.NoError(t, err)
	require.Equal(t, wallet.AccountFrozen, got.Status)
	require.Zero(t, got.AvailableBalance)
	require.Equal(t, int64(100), got.Balance)

	s := j.sms(j.p.Mobile, account.SceneClose)
	_, err = j.svc.CloseAccount(ctx, account.CloseRequest{AccountNo: a.AccountNo, SMSSerial: s.Serial, SMSCode: "123456", Password: wallettest.PIN(t, j.c)})
	require.ErrorIs(t, err, wallet.ErrAccountFrozen)
	_, err = payment.New(j.c).Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1})
	require.ErrorIs(t, err, wallet.ErrAccountFrozen)
	j.sb.Unfreeze(a.AccountNo)
	j.sb.Recharge(a.AccountNo, 1)
}

func TestAnotherMerchantSeesNothing(t *testing.T) {
	j := newJourney(t)
	a := j.open()
	// A second merchant registered on the same sandbox.
	other := wallettest.NewMockBank(t) // only for its fresh TEST key
	cfg := j.sb.Config()
	cfg.AppID, cfg.MerchantID, cfg.PrivateKey = "other-app", "M200000002", other.MerchantKey
	j.sb.RegisterMerchant(cfg.AppID, cfg.MerchantID, cfg.PrivateKey.Public(), "")
	oc, err := wallet.NewClient(cfg)
	require.NoError(t, err)
	_, err = account.New(oc).Query(ctx, a.AccountNo)
	require.ErrorIs(t, err, wallet.ErrAccountNotFound, "another channel's account is not found, never hinted at")
	w, err := oc.Query(ctx, wallet.QueryRequest{IDNumber: j.p.IDNumber, Mobile: j.p.Mobile, UserID: j.p.UserID})
	require.NoError(t, err)
	require.False(t, w.Opened)
}

// An opening whose answer was lost is settled by the same request under
// the same msg_id: the bank answers it from its memory, with the account
// the first try opened, and opens nothing twice.
func TestOpenAccountUnknownOutcomeResent(t *testing.T) {
	j := newJourney(t)
	c := j.sb.Client(wallet.WithRetry(0))
	svc := account.New(c)
	req := j.openRequest()
	msgID := wallet.NewMsgID()
	j.sb.InjectFault(wallettest.Fault{Kind: wallettest.FaultDropAfterCommit, Path: "account/open"})
	_, err := svc.OpenAccount(ctx, req, wallet.WithMsgID(msgID))
	require.True(t, wallet.IsOutcomeUnknown(err), "%v", err)

	a, err := svc.OpenAccount(ctx, req, wallet.WithMsgID(msgID))
	require.NoError(t, err, "the repeat is answered from the bank's memory of the msg_id")
	w, err := c.Query(ctx, wallet.QueryRequest{IDNumber: j.p.IDNumber, Mobile: j.p.Mobile, UserID: j.p.UserID})
	require.NoError(t, err)
	require.True(t, w.Opened)
	require.Equal(t, w.Account.AccountNo, a.AccountNo, "the account the first try opened")

	// Under a new msg_id the same request is a new one: refused.
	_, err = svc.OpenAccount(ctx, req)
	require.Error(t, err)
}
