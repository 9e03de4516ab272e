package account_test

import (
	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/wallet"
)

func sandboxMerchant(cfg wallet.Config) sandbox.Merchant {
	return sandbox.Merchant{AppID: cfg.AppID, MerchantID: cfg.MerchantID, PublicKey: cfg.PrivateKey.Public()}
}
