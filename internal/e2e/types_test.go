package e2e

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/payment/statement"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/pinpad"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The data types of the public API: every exported type of these packages
// is either here or in notData, and typesInSource fails the test when a
// new exported type is in neither — a new type cannot slip past the JSON
// and masking rules.
var dataTypes = map[string]reflect.Type{
	"wallet.QueryRequest":          reflect.TypeFor[wallet.QueryRequest](),
	"wallet.QueryResponse":         reflect.TypeFor[wallet.QueryResponse](),
	"wallet.Account":               reflect.TypeFor[wallet.Account](),
	"wallet.BoundCard":             reflect.TypeFor[wallet.BoundCard](),
	"wallet.Limits":                reflect.TypeFor[wallet.Limits](),
	"wallet.Order":                 reflect.TypeFor[wallet.Order](),
	"wallet.Refund":                reflect.TypeFor[wallet.Refund](),
	"wallet.BankKey":               reflect.TypeFor[wallet.BankKey](),
	"wallet.PINKey":                reflect.TypeFor[wallet.PINKey](),
	"wallet.EncryptedPIN":          reflect.TypeFor[wallet.EncryptedPIN](),
	"wallet.IDNumber":              reflect.TypeFor[wallet.IDNumber](),
	"wallet.CardNumber":            reflect.TypeFor[wallet.CardNumber](),
	"wallet.Mobile":                reflect.TypeFor[wallet.Mobile](),
	"wallet.Name":                  reflect.TypeFor[wallet.Name](),
	"wallet.Secret":                reflect.TypeFor[wallet.Secret](),
	"wallet.FaceImage":             reflect.TypeFor[wallet.FaceImage](),
	"wallet.AccountStatus":         reflect.TypeFor[wallet.AccountStatus](),
	"wallet.OrderType":             reflect.TypeFor[wallet.OrderType](),
	"wallet.OrderStatus":           reflect.TypeFor[wallet.OrderStatus](),
	"wallet.ErrorCode":             reflect.TypeFor[wallet.ErrorCode](),
	"notify.Event":                 reflect.TypeFor[notify.Event](),
	"notify.Type":                  reflect.TypeFor[notify.Type](),
	"account.SendSMSRequest":       reflect.TypeFor[account.SendSMSRequest](),
	"account.SMS":                  reflect.TypeFor[account.SMS](),
	"account.VerifyRequest":        reflect.TypeFor[account.VerifyRequest](),
	"account.Verification":         reflect.TypeFor[account.Verification](),
	"account.OpenRequest":          reflect.TypeFor[account.OpenRequest](),
	"account.ChangeCardRequest":    reflect.TypeFor[account.ChangeCardRequest](),
	"account.ResetPasswordRequest": reflect.TypeFor[account.ResetPasswordRequest](),
	"account.CloseRequest":         reflect.TypeFor[account.CloseRequest](),
	"account.Scene":                reflect.TypeFor[account.Scene](),
	"account.CardType":             reflect.TypeFor[account.CardType](),
	"payment.RechargeRequest":      reflect.TypeFor[payment.RechargeRequest](),
	"payment.WithdrawRequest":      reflect.TypeFor[payment.WithdrawRequest](),
	"payment.PayRequest":           reflect.TypeFor[payment.PayRequest](),
	"payment.TransferRequest":      reflect.TypeFor[payment.TransferRequest](),
	"payment.RefundRequest":        reflect.TypeFor[payment.RefundRequest](),
	"payment.Entry":                reflect.TypeFor[payment.Entry](),
	"payment.Outcome":              reflect.TypeFor[payment.Outcome](),
	"payment.Recovery":             reflect.TypeFor[payment.Recovery](),
	"h5.Common":                    reflect.TypeFor[h5.Common](),
	"h5.OpenPage":                  reflect.TypeFor[h5.OpenPage](),
	"h5.WalletPage":                reflect.TypeFor[h5.WalletPage](),
	"h5.RechargePage":              reflect.TypeFor[h5.RechargePage](),
	"h5.WithdrawPage":              reflect.TypeFor[h5.WithdrawPage](),
	"h5.PayPage":                   reflect.TypeFor[h5.PayPage](),
	"h5.CardPage":                  reflect.TypeFor[h5.CardPage](),
	"h5.PasswordPage":              reflect.TypeFor[h5.PasswordPage](),
	"h5.ClosePage":                 reflect.TypeFor[h5.ClosePage](),
	"h5.Result":                    reflect.TypeFor[h5.Result](),
	"h5.Return":                    reflect.TypeFor[h5.Return](),
	"statement.Request":            reflect.TypeFor[statement.Request](),
	"statement.Descriptor":         reflect.TypeFor[statement.Descriptor](),
	"statement.Type":               reflect.TypeFor[statement.Type](),
	"statement.TradeRecord":        reflect.TypeFor[statement.TradeRecord](),
	"statement.TradeType":          reflect.TypeFor[statement.TradeType](),
	"statement.LedgerRecord":       reflect.TypeFor[statement.LedgerRecord](),
	"statement.LedgerType":         reflect.TypeFor[statement.LedgerType](),
	"statement.MerchantRecord":     reflect.TypeFor[statement.MerchantRecord](),
	"statement.Difference":         reflect.TypeFor[statement.Difference](),
	"statement.DiffKind":           reflect.TypeFor[statement.DiffKind](),
	"statement.Report":             reflect.TypeFor[statement.Report](),
	"statement.Tally":              reflect.TypeFor[statement.Tally](),
	"statement.PairTally":          reflect.TypeFor[statement.PairTally](),
	"pinpad.Prompt":                reflect.TypeFor[pinpad.Prompt](),
	"pinpad.Result":                reflect.TypeFor[pinpad.Result](),
	"pinpad.Submission":            reflect.TypeFor[pinpad.Submission](),
}

// notData are exported types that are not requests or answers: behaviour
// (clients, services, handlers, stores), configuration with keys in it,
// options, interfaces and errors.
var notData = []string{
	"wallet.Client", "wallet.Config", "wallet.Option", "wallet.CallOption", "wallet.EncryptionPolicy",
	"wallet.APIError", "wallet.FieldError", "wallet.TransportError",
	"notify.Handler", "notify.Func", "notify.Option", "notify.Deduper", "notify.MemoryDeduper",
	"account.Service",
	"payment.Service", "payment.Option", "payment.Journal", "payment.FileJournal", "payment.MoneyRequest",
	"h5.Builder", "h5.Option", "h5.Page",
	"statement.Statement", "statement.Option", "statement.ReconcileOption", "statement.GetFunc",
	"statement.CSVError", "statement.RecordError", "statement.SegmentError",
	"pinpad.Handler", "pinpad.Option", "pinpad.KeySource", "pinpad.KeyFunc",
}

// typesInSource lists the exported types declared in the non-test files
// of the packages.
func typesInSource(t *testing.T) []string {
	t.Helper()
	var out []string
	for pkg, dir := range map[string]string{"wallet": "../../wallet", "notify": "../../wallet/notify",
		"account": "../../account", "payment": "../../payment", "h5": "../../h5",
		"statement": "../../payment/statement", "pinpad": "../../wallet/pinpad"} {
		for _, g := range declarations(t, dir, token.TYPE) {
			for _, s := range g.Specs {
				if ts := s.(*ast.TypeSpec); ts.Name.IsExported() && !ts.Assign.IsValid() { // aliases are classified where they are declared
					out = append(out, pkg+"."+ts.Name.Name)
				}
			}
		}
	}
	return out
}

// declarations are the tok declarations (types, constants) of the
// non-test files in dir.
func declarations(t *testing.T, dir string, tok token.Token) []*ast.GenDecl {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var out []*ast.GenDecl
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range file.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == tok {
				out = append(out, g)
			}
		}
	}
	return out
}

func TestEveryExportedTypeIsClassified(t *testing.T) {
	for _, name := range typesInSource(t) {
		_, data := dataTypes[name]
		require.True(t, data || slices.Contains(notData, name),
			"%s is a new exported type: add it to dataTypes (it then must survive JSON and print masked) or to notData", name)
	}
}

// The test values: personal data that the masking must hide, and a time
// of the protocol's precision in its zone.
var (
	clearID     = "110101199003074514"
	clearCard   = "6222021234567890128"
	clearMobile = "13887654329"
	clearName   = "张三丰"
	clearSecret = "824613"
	clearFace   = []byte("\xff\xd8\xff face bytes that must not print")
	at          = time.Date(2026, 11, 25, 16, 0, 0, 0, wire.Shanghai)
)

// day is a business day as the protocol writes it (yyyy-MM-dd, 00:00
// UTC+8): the statement types hold days, not instants.
var day = time.Date(2026, 11, 25, 0, 0, 0, 0, wire.Shanghai)

// samples are whole values for the types whose fields have a wire format
// that fill's placeholders do not meet (their UnmarshalJSON checks it).
var samples = map[reflect.Type]any{
	reflect.TypeFor[statement.Request](): statement.Request{Date: day, Type: statement.Trade},
	reflect.TypeFor[statement.Descriptor](): statement.Descriptor{
		FileID: strings.Repeat("ab", 16), Date: day, Type: statement.Ledger, Records: 777, AmountSum: -777, Size: 4096,
		SM3: strings.Repeat("0f", 32), EncryptKey: "S-envelope", ExpiresAt: at,
	},
}

// fill sets every field of v, recursively, to a non-zero value.
func fill(t *testing.T, v reflect.Value) {
	if s, ok := samples[v.Type()]; ok {
		v.Set(reflect.ValueOf(s))
		return
	}
	switch v.Type() {
	case reflect.TypeFor[wallet.IDNumber]():
		v.SetString(clearID)
		return
	case reflect.TypeFor[wallet.CardNumber]():
		v.SetString(clearCard)
		return
	case reflect.TypeFor[wallet.Mobile]():
		v.SetString(clearMobile)
		return
	case reflect.TypeFor[wallet.Name]():
		v.SetString(clearName)
		return
	case reflect.TypeFor[wallet.Secret]():
		v.SetString(clearSecret)
		return
	case reflect.TypeFor[wallet.FaceImage]():
		v.SetBytes(clearFace)
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(at))
		return
	case reflect.TypeFor[time.Duration]():
		v.SetInt(int64(5 * time.Minute))
		return
	case reflect.TypeFor[json.RawMessage]():
		v.SetBytes([]byte(`{"k":"v"}`))
		return
	case reflect.TypeFor[*sign.PublicKey]():
		k, err := sign.GenerateKey()
		require.NoError(t, err)
		v.Set(reflect.ValueOf(k.Public()))
		return
	case reflect.TypeFor[error]():
		v.Set(reflect.ValueOf(errors.New("a failure")))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("S-" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(777)
	case reflect.Uint8:
		v.SetUint(0x5a)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, s.Index(0))
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem())
		v.Set(p)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i))
			}
		}
	default:
		t.Fatalf("fill: no value for %s", v.Type())
	}
}

// holdsPersonal reports whether v holds a non-empty personal data value.
func holdsPersonal(v reflect.Value) bool {
	switch v.Type() {
	case reflect.TypeFor[wallet.IDNumber](), reflect.TypeFor[wallet.CardNumber](), reflect.TypeFor[wallet.Mobile](),
		reflect.TypeFor[wallet.Name](), reflect.TypeFor[wallet.Secret](), reflect.TypeFor[wallet.FaceImage]():
		return v.Len() > 0
	}
	switch v.Kind() {
	case reflect.Pointer:
		return !v.IsNil() && holdsPersonal(v.Elem())
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if holdsPersonal(v.Index(i)) {
				return true
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && holdsPersonal(v.Field(i)) {
				return true
			}
		}
	}
	return false
}

// clearPersonal empties every personal data value in v.
func clearPersonal(v reflect.Value) {
	switch v.Type() {
	case reflect.TypeFor[wallet.IDNumber](), reflect.TypeFor[wallet.CardNumber](), reflect.TypeFor[wallet.Mobile](),
		reflect.TypeFor[wallet.Name](), reflect.TypeFor[wallet.Secret](), reflect.TypeFor[wallet.FaceImage]():
		v.Set(reflect.Zero(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			clearPersonal(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			clearPersonal(v.Index(i))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				clearPersonal(v.Field(i))
			}
		}
	}
}

// same compares two values of a type as a merchant would: times by
// instant, public keys by point, errors by message, the rest exactly.
func same(a, b reflect.Value) bool {
	switch a.Type() {
	case reflect.TypeFor[time.Time]():
		return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
	case reflect.TypeFor[*sign.PublicKey]():
		return a.Interface().(*sign.PublicKey).Equal(b.Interface().(*sign.PublicKey))
	case reflect.TypeFor[error]():
		return a.IsNil() == b.IsNil() && (a.IsNil() || a.Interface().(error).Error() == b.Interface().(error).Error())
	}
	switch a.Kind() {
	case reflect.Pointer:
		return a.IsNil() == b.IsNil() && (a.IsNil() || same(a.Elem(), b.Elem()))
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !same(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).IsExported() && !same(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// Issue 12, item 4: every request and answer type survives json.Marshal
// then json.Unmarshal unchanged, or json.Marshal fails loudly (because it
// holds personal data in clear); nothing comes back quietly empty or
// masked. The rule is in package wallet's doc (personal.go).
func TestEveryTypeSurvivesJSONOrFailsLoudly(t *testing.T) {
	for name, typ := range dataTypes {
		t.Run(name, func(t *testing.T) {
			v := reflect.New(typ).Elem()
			fill(t, v)
			b, err := json.Marshal(v.Interface())
			if holdsPersonal(v) {
				require.ErrorIs(t, err, wallet.ErrPersonalData, "personal data in clear: json.Marshal must refuse it")
				clearPersonal(v)
				b, err = json.Marshal(v.Interface())
			}
			require.NoError(t, err)
			back := reflect.New(typ)
			require.NoError(t, json.Unmarshal(b, back.Interface()), "%s", b)
			require.True(t, same(v, back.Elem()), "%s changed through JSON:\n %+v\n→%s\n→%+v", name, v.Interface(), b, back.Elem().Interface())
		})
	}
}

// Issue 13, item 6: every data type, filled by reflection, prints and logs
// its personal data masked (fmt, every common verb; slog text and JSON).
func TestEveryTypePrintsMasked(t *testing.T) {
	// The whole values, and what each mask hides (long enough not to turn
	// up by chance in a random key's hex).
	secrets := []string{clearID, clearCard, clearMobile, clearName, clearSecret, string(clearFace),
		clearID[3:14], clearCard[4:15], clearMobile[:7], "三丰"}
	var values []any
	for _, typ := range dataTypes {
		v := reflect.New(typ).Elem()
		fill(t, v)
		values = append(values, v.Interface(), v.Addr().Interface())
	}
	wallettest.RequireMasked(t, values, secrets...)
	// And in a merchant's own struct through slog's JSON handler, which
	// calls encoding/json for nested values.
	req := account.OpenRequest{Name: wallet.Name(clearName), IDNumber: wallet.IDNumber(clearID), Mobile: wallet.Mobile(clearMobile)}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("merchant", "wrapped", struct{ Req account.OpenRequest }{req})
	for _, s := range secrets {
		require.NotContains(t, logs.String(), s)
	}
}
