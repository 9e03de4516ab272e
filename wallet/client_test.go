package wallet_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func TestNewClientNamesTheBadField(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	good := bank.Config()
	for name, tc := range map[string]struct {
		edit func(*wallet.Config)
		want string
	}{
		"no base url":       {func(c *wallet.Config) { c.BaseURL = "" }, "Config.BaseURL is required"},
		"relative base url": {func(c *wallet.Config) { c.BaseURL = "/api" }, "Config.BaseURL must be an absolute http or https URL"},
		"ftp base url":      {func(c *wallet.Config) { c.BaseURL = "ftp://bank" }, "Config.BaseURL must be an absolute http or https URL"},
		"query in base url": {func(c *wallet.Config) { c.BaseURL = "https://bank/?x=1" }, "Config.BaseURL must not carry"},
		"no app id":         {func(c *wallet.Config) { c.AppID = "" }, "Config.AppID is required"},
		"app id with space": {func(c *wallet.Config) { c.AppID = "a b" }, "Config.AppID must be printable ASCII"},
		"no merchant id":    {func(c *wallet.Config) { c.MerchantID = "" }, "Config.MerchantID is required"},
		"no private key":    {func(c *wallet.Config) { c.PrivateKey = nil }, "Config.PrivateKey is required"},
		"no bank keys":      {func(c *wallet.Config) { c.BankKeys = nil }, "Config.BankKeys needs at least one"},
		"nil bank key": {func(c *wallet.Config) {
			c.BankKeys = map[string]*sign.PublicKey{"k": nil}
		}, `Config.BankKeys["k"] is nil`},
		"empty key id": {func(c *wallet.Config) {
			c.BankKeys = map[string]*sign.PublicKey{"": good.PrivateKey.Public()}
		}, "Config.BankKeys key id is required"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := bank.Config()
			tc.edit(&cfg)
			c, err := wallet.NewClient(cfg)
			require.Nil(t, c)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNewClientRejectsBadOptions(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	for name, tc := range map[string]struct {
		opt  wallet.Option
		want string
	}{
		"timeout":    {wallet.WithTimeout(0), "WithTimeout"},
		"retry":      {wallet.WithRetry(-1), "WithRetry"},
		"backoff":    {wallet.WithBackoff(time.Second, time.Millisecond), "WithBackoff"},
		"http":       {wallet.WithHTTPClient(nil), "WithHTTPClient"},
		"transport":  {wallet.WithTransport(nil), "WithTransport"},
		"logger":     {wallet.WithLogger(nil), "WithLogger"},
		"clock":      {wallet.WithClock(nil), "WithClock"},
		"encryption": {wallet.WithEncryption(7), "WithEncryption"},
		"deduper":    {wallet.WithDeduper(nil), "WithDeduper"},
		"key id":     {wallet.WithEncryptKeyID("nope"), "WithEncryptKeyID"},
		"nil option": {nil, "nil Option"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := wallet.NewClient(bank.Config(), tc.opt)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNewClientCopiesWhatItIsGiven(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	cfg := bank.Config()
	hc := &http.Client{Timeout: time.Hour}
	c, err := wallet.NewClient(cfg, wallet.WithHTTPClient(hc), wallet.WithTransport(bank.Transport), wallet.WithTimeout(time.Second))
	require.NoError(t, err)
	require.Equal(t, time.Hour, hc.Timeout, "the caller's http.Client must not be changed")
	delete(cfg.BankKeys, "mock-bank-1")
	require.Len(t, c.BankKeys(), 1, "changing the caller's map must not change the client")
	require.Equal(t, strings.TrimRight(cfg.BaseURL, "/"), c.BaseURL())
}
