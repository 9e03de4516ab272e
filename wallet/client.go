package wallet

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/sign"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.2.0"

// Config holds what a merchant gets from the bank and must not get wrong.
// Everything in it is required; NewClient names the field that is missing or
// bad.
type Config struct {
	// BaseURL is the bank's gateway, e.g. https://openapi.bank.example or the
	// sandbox's http://127.0.0.1:8360. It must be https, or http on a
	// loopback host (WithInsecureHTTP allows plain http elsewhere). A path
	// prefix is kept: calls go to {BaseURL}/api/v1/..., while signatures
	// always cover /api/v1/....
	BaseURL string
	// AppID and MerchantID (商户号) are assigned by the platform.
	AppID      string
	MerchantID string
	// PrivateKey is the merchant's SM2 key, which the client signs and
	// decrypts with: a *sign.PrivateKey held in memory, or any sign.Signer
	// whose key lives in an HSM, a cloud KMS or a signing service. The bank
	// holds its public half. The client never hands it out.
	PrivateKey sign.Signer
	// BankKeys are the bank's public keys by key id: the anchors of trust.
	// The client trusts answers signed by these, and by keys a verified
	// platform/keys list adds (RefreshBankKeys); these stay trusted.
	BankKeys map[string]*sign.PublicKey
}

// Client calls the bank. It is safe for concurrent use, holds no global
// state, and does not change after NewClient except for its trusted bank
// key set, which RefreshBankKeys renews. A zero Client is not usable: its
// calls fail with an error saying so.
type Client struct {
	core       *core.Core
	http       *resty.Client
	policy     EncryptionPolicy
	retries    int
	backoffMin time.Duration
	backoffMax time.Duration
}

func init() {
	core.Bridge.Core = func(v any) (*core.Core, error) {
		c, _ := v.(*Client)
		if c == nil || c.core == nil {
			return nil, core.ErrNoClient
		}
		return c.core, nil
	}
	core.Bridge.MarshalWire = marshalWire
}

// errNoClient is what a method of a nil or zero Client returns.
var errNoClient = fmt.Errorf("wallet: %w", core.ErrNoClient)

// NewClient checks cfg and the options and returns a ready Client.
func NewClient(cfg Config, opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("wallet: nil Option")
		}
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := cfg.validate(o.insecureHTTP); err != nil {
		return nil, err
	}
	anchors := make(map[string]*sign.PublicKey, len(cfg.BankKeys))
	for id, k := range cfg.BankKeys {
		anchors[id] = k
	}
	if o.pinnedKeyID != "" {
		if _, ok := anchors[o.pinnedKeyID]; !ok {
			return nil, fmt.Errorf("wallet: WithEncryptKeyID: %q is not in Config.BankKeys", o.pinnedKeyID)
		}
	}
	calls, streams := o.httpClients()
	c := &Client{
		core: &core.Core{
			AppID:       cfg.AppID,
			MerchantID:  cfg.MerchantID,
			BaseURL:     strings.TrimRight(cfg.BaseURL, "/"),
			Key:         cfg.PrivateKey,
			Keys:        core.NewKeyring(anchors),
			Now:         o.clock,
			Log:         o.logger,
			HTTP:        streams,
			PinnedKeyID: o.pinnedKeyID,
		},
		policy:     o.policy,
		retries:    o.retries,
		backoffMin: o.backoffMin,
		backoffMax: o.backoffMax,
	}
	c.http = newResty(calls)
	return c, nil
}

func (cfg Config) validate(insecureHTTP bool) error {
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "":
		return errors.New("wallet: Config.BaseURL is required")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return errors.New("wallet: Config.BaseURL must be an absolute http or https URL")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("wallet: Config.BaseURL must not carry a query, fragment or user info")
	case u.Scheme == "http" && !isLoopback(u.Hostname()) && !insecureHTTP:
		return errors.New("wallet: Config.BaseURL is plain http on a host that is not loopback: use https (WithInsecureHTTP allows http, for a test bank on another host)")
	}
	if err := checkID("AppID", cfg.AppID); err != nil {
		return err
	}
	if err := checkID("MerchantID", cfg.MerchantID); err != nil {
		return err
	}
	if isNil(cfg.PrivateKey) {
		return errors.New("wallet: Config.PrivateKey is required (sign.ParsePrivateKey loads one; a sign.Signer reaches a key held elsewhere)")
	}
	if cfg.PrivateKey.Public() == nil {
		return errors.New("wallet: Config.PrivateKey has no public key")
	}
	if len(cfg.BankKeys) == 0 {
		return errors.New("wallet: Config.BankKeys needs at least one bank public key")
	}
	for id, k := range cfg.BankKeys {
		if err := checkID("BankKeys key id", id); err != nil {
			return err
		}
		if k == nil {
			return fmt.Errorf("wallet: Config.BankKeys[%q] is nil", id)
		}
	}
	return nil
}

// isNil tells a nil interface and an interface holding a nil pointer (a
// nil *sign.PrivateKey) alike.
func isNil(s sign.Signer) bool {
	if s == nil {
		return true
	}
	k, ok := s.(*sign.PrivateKey)
	return ok && k == nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkID(field, v string) error {
	if v == "" {
		return fmt.Errorf("wallet: Config.%s is required", field)
	}
	if len(v) > 64 {
		return fmt.Errorf("wallet: Config.%s is longer than 64 characters", field)
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return fmt.Errorf("wallet: Config.%s must be printable ASCII without spaces", field)
		}
	}
	return nil
}

// AppID returns the configured app id.
func (c *Client) AppID() string {
	if c == nil || c.core == nil {
		return ""
	}
	return c.core.AppID
}

// MerchantID returns the configured merchant id.
func (c *Client) MerchantID() string {
	if c == nil || c.core == nil {
		return ""
	}
	return c.core.MerchantID
}

// BaseURL returns the configured gateway URL, without a trailing slash.
func (c *Client) BaseURL() string {
	if c == nil || c.core == nil {
		return ""
	}
	return c.core.BaseURL
}

// newResty wraps the client's http.Client; each call of Do makes its
// attempts through it, one request each (Do owns the retries).
func newResty(hc *http.Client) *resty.Client {
	return resty.NewWithClient(hc).
		SetLogger(discardLogger{}).
		SetRetryAfter(retryAfter).
		SetResponseBodyLimit(maxResponseBytes).
		SetHeader("User-Agent", "ewallet-go/"+Version).
		SetHeader("Content-Type", "application/json; charset=utf-8").
		SetHeader("Accept", "application/json")
}

// discardLogger keeps resty quiet: the client logs through slog itself, with
// masked fields only.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...interface{}) {}
func (discardLogger) Warnf(string, ...interface{})  {}
func (discardLogger) Debugf(string, ...interface{}) {}
