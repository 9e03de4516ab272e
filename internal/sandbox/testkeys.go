package sandbox

// The built-in TEST credentials of the sandbox. They are published on
// purpose (GET /sandbox/credentials, the project's docs) so that nothing
// needs configuring: anyone can read them, so nothing they sign or encrypt is
// secret. They are not the conformance-vector keys, so a test that passes
// against the sandbox defaults proves nothing about the vectors and the other
// way round.

// DefaultAppID is the app id of the built-in test merchant.
const DefaultAppID = "sandbox-app"

// DefaultMerchantID is the merchant id (商户号) of the built-in test merchant.
const DefaultMerchantID = "M100000001"

// The ids of the two built-in bank keys (docs/protocol.md, "Keys").
const (
	DefaultBankKeyID     = "bank-2026-01"
	DefaultNextBankKeyID = "bank-2026-07"
)

// DefaultMerchantKeyPEM is the private key of the built-in test merchant
// (PKCS#8 PEM).
//
// TEST KEY — sandbox only, never use in production.
const DefaultMerchantKeyPEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgvuvrtkrlTxgpMOmP
Lm0RGHhkC06hxZaNqCfSBZjkRFahRANCAASmrTLdaAO4uMT7164ERRh7YFSggqr5
bYRO/AC7RJ5D3vl1RNtc9Yp3YUeSF09vrs1tge5Ar9/JgNmQ3ieZDibl
-----END PRIVATE KEY-----
`

// DefaultMerchantPublicKeyPEM is the public half of DefaultMerchantKeyPEM
// (SubjectPublicKeyInfo PEM), the form the bank holds.
//
// TEST KEY — sandbox only, never use in production.
const DefaultMerchantPublicKeyPEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEpq0y3WgDuLjE+9euBEUYe2BUoIKq
+W2ETvwAu0SeQ975dUTbXPWKd2FHkhdPb67NbYHuQK/fyYDZkN4nmQ4m5Q==
-----END PUBLIC KEY-----
`

// DefaultBankKeyPEM is the private key of bank key "bank-2026-01"
// (PKCS#8 PEM), the key that signs until told otherwise.
//
// TEST KEY — sandbox only, never use in production.
const DefaultBankKeyPEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg4jWwZp9z/4gCT5RN
qzne32CPxNBk+plvwmmPOjchl2ehRANCAATmDcHJTDA6jsDh9ALBaCfjhfiBowH3
x+4XIhXhtK6Qo5zhves/eYBKIgLEEeEOvTwxzhxgJT7XNFZohfIxgH8O
-----END PRIVATE KEY-----
`

// DefaultBankPublicKeyPEM is the public half of DefaultBankKeyPEM.
//
// TEST KEY — sandbox only, never use in production.
const DefaultBankPublicKeyPEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE5g3ByUwwOo7A4fQCwWgn44X4gaMB
98fuFyIV4bSukKOc4b3rP3mASiICxBHhDr08Mc4cYCU+1zRWaIXyMYB/Dg==
-----END PUBLIC KEY-----
`

// DefaultNextBankKeyPEM is the private key of bank key "bank-2026-07"
// (PKCS#8 PEM), the rotation target.
//
// TEST KEY — sandbox only, never use in production.
const DefaultNextBankKeyPEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQggROmTxTh53cACIYW
LqW+k8rQhNXiTp4wx6sGA0XTrk2hRANCAARzTLrkxCZ5U10qlOQf9w0j2/9hVzBa
hFgSyQ6S6oU/rW9TUSc/BA50PtK8cbmUDQFaZ0vLKLvP8oDc+XT8wAyw
-----END PRIVATE KEY-----
`

// DefaultNextBankPublicKeyPEM is the public half of DefaultNextBankKeyPEM.
//
// TEST KEY — sandbox only, never use in production.
const DefaultNextBankPublicKeyPEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEc0y65MQmeVNdKpTkH/cNI9v/YVcw
WoRYEskOkuqFP61vU1EnPwQOdD7SvHG5lA0BWmdLyyi7z/KA3Pl0/MAMsA==
-----END PUBLIC KEY-----
`
