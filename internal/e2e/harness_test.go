package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// What several tests of this package share: a transport that keeps what
// the client sent, raw calls to the sandbox, and a notification receiver
// registered through the sandbox's control API.

// sentLog keeps every request body a client sends, by API path.
type sentLog struct {
	mu   sync.Mutex
	sent map[string][][]byte
}

func (w *sentLog) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	_ = r.Body.Close()
	w.mu.Lock()
	if w.sent == nil {
		w.sent = map[string][][]byte{}
	}
	w.sent[r.URL.Path] = append(w.sent[r.URL.Path], body)
	w.mu.Unlock()
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(out)
}

// last is the last request body sent to the API path ("payment/pay").
func (w *sentLog) last(t *testing.T, path string) []byte {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.sent["/api/v1/"+path]
	require.NotEmpty(t, list, "nothing sent to %s", path)
	return list[len(list)-1]
}

// envelope is a flat JSON object of strings: a request, an answer or a
// notification as it travels.
type envelope map[string]string

func parseEnvelope(t *testing.T, body []byte) envelope {
	t.Helper()
	var e envelope
	require.NoError(t, json.Unmarshal(body, &e))
	return e
}

func (e envelope) with(k, v string) []byte {
	c := envelope{}
	for key, val := range e {
		c[key] = val
	}
	c[k] = v
	b, _ := json.Marshal(c)
	return b
}

// postAPI posts a request body as it is to the bank, as an eavesdropper
// replaying it would, and returns the bank's answer after checking its
// signature under a key the client trusts.
func postAPI(t *testing.T, c *wallet.Client, path string, body []byte) envelope {
	t.Helper()
	resp, err := http.Post(c.BaseURL()+"/api/v1/"+path, "application/json; charset=utf-8", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	ans := parseEnvelope(t, raw)
	var key *sign.PublicKey
	for _, k := range c.BankKeys() {
		if k.ID == ans["sign_key_id"] {
			key = k.Key
		}
	}
	require.NotNil(t, key, "signed by a trusted bank key")
	require.NoError(t, key.VerifyCanonical("/api/v1/"+path, ans, ans["sign"]), "every answer is signed, errors included")
	return ans
}

// receiver is a merchant's notify URL: it keeps the body of every delivery
// and hands it to a client's NotificationHandler.
type receiver struct {
	*httptest.Server
	mu        sync.Mutex
	handler   http.Handler
	loseFirst bool // answer the bank's first delivery with 500, as if the merchant's "SUCCESS" was lost
	got       []delivered
	arrived   chan struct{}
}

// delivered is one delivery as the receiver saw it: the body, and what the
// client's handler answered.
type delivered struct {
	body   []byte
	status int
}

func newReceiver(t *testing.T, h http.Handler) *receiver {
	rc := &receiver{handler: h, arrived: make(chan struct{}, 64)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := httptest.NewRecorder()
	rc.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body)))
	rc.mu.Lock()
	rc.got = append(rc.got, delivered{body: body, status: rec.Code})
	first := len(rc.got) == 1
	rc.mu.Unlock()
	if first && rc.loseFirst {
		w.WriteHeader(http.StatusInternalServerError)
	} else {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
	rc.arrived <- struct{}{}
}

// wait returns once n deliveries have arrived (failing after 5 s).
func (rc *receiver) wait(t *testing.T, n int) []delivered {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		rc.mu.Lock()
		if len(rc.got) >= n {
			out := append([]delivered(nil), rc.got...)
			rc.mu.Unlock()
			return out
		}
		rc.mu.Unlock()
		select {
		case <-rc.arrived:
		case <-deadline:
			t.Fatalf("fewer than %d notifications within 5 s", n)
		}
	}
}

// registerNotifyURL points the sandbox's test merchant at url through the
// control API (POST /sandbox/merchants), keeping its key.
func registerNotifyURL(t *testing.T, sb *wallettest.Server, url string) {
	t.Helper()
	resp, err := http.Get(sb.URL + "/sandbox/credentials")
	require.NoError(t, err)
	var creds struct {
		AppID      string `json:"app_id"`
		MerchantID string `json:"merchant_id"`
		PublicKey  string `json:"merchant_public_key"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&creds))
	resp.Body.Close()
	body, _ := json.Marshal(map[string]string{"app_id": creds.AppID, "merchant_id": creds.MerchantID,
		"public_key": creds.PublicKey, "notify_url": url})
	resp, err = http.Post(sb.URL+"/sandbox/merchants", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// notificationRequest is a delivery body as the bank posts it.
func notificationRequest(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	return r
}

// shifted is a clock d away from the real one.
func shifted(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }

// mustHandler is notify.NewHandler for a test.
func mustHandler(t *testing.T, c *wallet.Client, fn notify.Func) *notify.Handler {
	t.Helper()
	h, err := notify.NewHandler(c, fn)
	require.NoError(t, err)
	return h
}
