package sandbox

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
)

// vectorBank is a bank that holds the conformance vectors' keys: bank and
// bank_next under their ids, and the vectors' merchant as the test app.
func vectorBank(t *testing.T, now time.Time) (*Bank, vectors.Keys) {
	t.Helper()
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	bank := mustPrivateKey(t, keys.Bank.PrivatePEM)
	next := mustPrivateKey(t, keys.BankNext.PrivatePEM)
	merchant, err := sign.ParsePublicKey([]byte(keys.Merchant.PublicPEM))
	require.NoError(t, err)
	b, err := New(Options{
		Now: func() time.Time { return now },
		BankKeys: []BankKey{
			{ID: keys.BankKeyID, Key: bank},
			{ID: keys.BankNextKeyID, Key: next},
		},
		Merchants: []Merchant{{AppID: DefaultAppID, MerchantID: DefaultMerchantID, PublicKey: merchant}},
	})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b, keys
}

// TestRequestVectors: every entry of requests.json is accepted or rejected
// exactly as it says; accepted ones decrypt to the given plaintext.
func TestRequestVectors(t *testing.T) {
	t.Parallel()
	var cases []vectors.Message
	require.NoError(t, vectors.Load("requests.json", &cases))
	require.NotEmpty(t, cases)
	gatewayCodes := map[string]bool{
		codeParamInvalid: true, codeSignatureInvalid: true, codeDecryptFailed: true, codeEncryptionRequired: true,
		codeTimestampExpired: true, codeMsgIDConflict: true, codeAppInvalid: true, codeAPINotFound: true, codePermissionDenied: true,
	}
	// The code each kind of invalid request must get.
	want := map[string]string{
		"field changed after signing":                codeSignatureInvalid,
		"signed for another path":                    codeSignatureInvalid,
		"timestamp skew over 300 s":                  codeTimestampExpired,
		"AAD (msg_id) does not match the ciphertext": codeDecryptFailed,
	}
	for i, tc := range cases {
		t.Run(vectors.Name(i, tc.Valid, tc.Why), func(t *testing.T) {
			now, err := vectors.Time(tc.Now)
			require.NoError(t, err)
			b, keys := vectorBank(t, now)
			path := tc.Path
			if tc.PathOverride != "" {
				path = tc.PathOverride
			}

			// The gateway's own reading of the request.
			in, early := b.authenticate(path, []byte(tc.Body))
			if tc.Valid {
				require.Nil(t, early, "rejected: %+v", early)
				require.Equal(t, tc.BizContent, string(in.plain))
			} else {
				require.NotNil(t, early, "accepted an invalid request")
				if code, ok := want[tc.Why]; ok {
					require.Equal(t, code, early.res.code, early.res.msg)
				} else {
					require.True(t, gatewayCodes[early.res.code], early.res.code)
				}
			}

			// And over HTTP: a signed answer under the vectors' bank key,
			// readable with the vectors' merchant key.
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader([]byte(tc.Body)))
			rec := httptest.NewRecorder()
			b.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code)
			c := &tclient{t: t, key: mustPrivateKey(t, keys.Merchant.PrivatePEM), bankKeys: map[string]*sign.PublicKey{}}
			for id, pair := range map[string]vectors.KeyPair{keys.BankKeyID: keys.Bank, keys.BankNextKeyID: keys.BankNext} {
				pub, err := sign.ParsePublicKey([]byte(pair.PublicPEM))
				require.NoError(t, err)
				c.bankKeys[id] = pub
			}
			msgID := ""
			if in != nil {
				msgID = in.msgID
			} else {
				msgID = early.msgID
				require.NotEmpty(t, msgID, "a well-formed msg_id is echoed even on errors")
			}
			out := &tresp{}
			require.NoError(t, c.open(path, msgID, rec.Body.Bytes(), out))
			require.Equal(t, keys.BankKeyID, out.fields["sign_key_id"])
			if !tc.Valid {
				require.True(t, gatewayCodes[out.code], out.code)
				return
			}
			require.False(t, gatewayCodes[out.code], "%s: %s", out.code, out.msg)
			switch path {
			case "/api/v1/wallet/query":
				require.Equal(t, codeSuccess, out.code)
				require.Equal(t, "SM4-GCM", out.fields["encrypt_type"], "an encrypted request gets an encrypted answer")
				require.JSONEq(t, `{"opened":false}`, string(out.biz))
			case "/api/v1/payment/query":
				require.Equal(t, codeOrderNotFound, out.code)
			}
		})
	}
}
