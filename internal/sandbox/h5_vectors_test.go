package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
)

// TestH5Vectors: every link of h5.json is accepted or refused at its `now`
// exactly as it says, by a bank that holds the vectors' keys (vectorBank).
// The vectors' account does not exist in a fresh bank, so "accepted" means
// the link verified: the verification itself passes, and over HTTP the
// answer is not a link error (an accepted link for a missing account gets
// the account error page, which comes after verification).
func TestH5Vectors(t *testing.T) {
	t.Parallel()
	var cases []vectors.H5Case
	require.NoError(t, vectors.Load("h5.json", &cases))
	want := map[string]string{
		"older than 10 minutes":        h5ErrExpired,
		"amount changed after signing": h5ErrSignature,
		"signed for another page":      h5ErrSignature,
	}
	linkErrors := map[string]bool{h5ErrExpired: true, h5ErrEarly: true, h5ErrReused: true, h5ErrSignature: true,
		h5ErrParam: true, h5ErrMerchant: true, h5ErrPage: true}
	n := 0
	for i, v := range cases {
		if v.URL == "" {
			continue
		}
		n++
		t.Run(vectors.Name(i, v.Valid, v.Why), func(t *testing.T) {
			t.Parallel()
			now, err := vectors.Time(v.Now)
			require.NoError(t, err)
			u, err := url.Parse(v.URL)
			require.NoError(t, err)
			name := strings.TrimPrefix(u.Path, "/h5/")

			b, _ := vectorBank(t, now)
			l, lerr := b.h5.verifyLink(name, u.RawQuery)
			if !v.Valid {
				require.NotNil(t, lerr, "accepted an invalid link")
				if kind, ok := want[v.Why]; ok {
					require.Equal(t, kind, lerr.kind)
				}
			} else {
				require.Nil(t, lerr, "refused a valid link: %v", lerr)
				require.Equal(t, v.Page, l.page)
				require.Equal(t, "u-1001", l.userID)
				if v.Data != "" {
					var want h5Prefill
					require.NoError(t, json.Unmarshal([]byte(v.Data), &want))
					require.Equal(t, want, l.prefill, "data decrypts under the bank key with AAD = nonce")
				}
				if name == "pay" {
					require.Equal(t, int64(990), l.amount)
					require.Equal(t, "会员月卡 & 礼包", l.subject)
				}
				// Once: the same link again is reused.
				_, again := b.h5.verifyLink(name, u.RawQuery)
				require.NotNil(t, again)
				require.Equal(t, h5ErrReused, again.kind)
			}

			// Over HTTP, on a bank that has not seen the nonce.
			fresh, _ := vectorBank(t, now)
			rec := httptest.NewRecorder()
			fresh.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
			kind := (&page{body: rec.Body.String()}).errorKind()
			if !v.Valid {
				require.True(t, linkErrors[kind], "kind %q", kind)
				require.NotContains(t, rec.Body.String(), "<form")
				return
			}
			require.False(t, linkErrors[kind], "a valid link got the link error %q", kind)
			switch name {
			case "open":
				// The open vector's prefilled card number fails Luhn: only
				// submitting the form would be refused, not the link.
				require.Equal(t, http.StatusSeeOther, rec.Code)
			default:
				require.Equal(t, h5ErrAccount, kind, "the vectors' account is not in a fresh sandbox")
			}
		})
	}
	require.Equal(t, 6, n)
}

// TestH5VectorOpenPrefillShown: the open vector's link renders the form
// with its prefill, the bad card number included, and refuses that number
// only on submit.
func TestH5VectorOpenPrefillShown(t *testing.T) {
	t.Parallel()
	var cases []vectors.H5Case
	require.NoError(t, vectors.Load("h5.json", &cases))
	for _, v := range cases {
		if v.Page != "open" || !v.Valid {
			continue
		}
		now, err := vectors.Time(v.Now)
		require.NoError(t, err)
		b, _ := vectorBank(t, now)
		u, _ := url.Parse(v.URL)
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
		require.Equal(t, http.StatusSeeOther, rec.Code)
		sessionURL, cookie := rec.Header().Get("Location"), rec.Result().Cookies()[0]
		do := func(method string, form url.Values) string {
			req := httptest.NewRequest(method, sessionURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(cookie)
			rec := httptest.NewRecorder()
			b.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code)
			return rec.Body.String()
		}
		body := do(http.MethodGet, nil)
		for _, s := range []string{"张三", "110101199003074514", "13800138000", "6222020200112345678"} {
			require.Contains(t, body, `value="`+s+`"`)
		}
		form := url.Values{"name": {"张三"}, "id_number": {"110101199003074514"}, "mobile": {"13800138000"},
			"card_no": {"6222020200112345678"}, "sms_code": {"123456"}, "pin": {"135790"}, "pin2": {"135790"}}
		for _, action := range []string{"sms", "testface", "submit"} {
			form.Set("action", action)
			body = do(http.MethodPost, form)
		}
		require.Contains(t, (&page{body: body}).alert(), "银行卡号校验位不正确")
		return
	}
	t.Fatal("no valid open vector")
}
