package perf

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

var ctx = context.Background()

// BenchmarkE2E1 is one caller: wallet/query against the sandbox over
// loopback HTTP, one call after the other (latency-bound).
func BenchmarkE2E1(b *testing.B) {
	c, req := e2eSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Query(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N)
}

// BenchmarkE2E8 is eight concurrent callers on one Client. Client and bank
// share the machine, so calls/s/core divides by GOMAXPROCS.
func BenchmarkE2E8(b *testing.B) {
	c, req := e2eSetup(b)
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((8 + procs - 1) / procs)
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Query(ctx, req); err != nil {
				b.Error(err)
				return
			}
			n.Add(1)
		}
	})
	reportRate(b, int(n.Load()))
}

func e2eSetup(b *testing.B) (*wallet.Client, wallet.QueryRequest) {
	sb := wallettest.NewServer(b)
	c := sb.Client()
	p := wallettest.Person()
	req := wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID}
	sb.OpenAccount(p)
	if _, err := c.Query(ctx, req); err != nil { // warm the connections
		b.Fatal(err)
	}
	return c, req
}

func reportRate(b *testing.B, calls int) {
	perSec := float64(calls) / b.Elapsed().Seconds()
	b.ReportMetric(perSec, "calls/s")
	b.ReportMetric(perSec/float64(runtime.GOMAXPROCS(0)), "calls/s/core")
}

// faceMiB is a PNG of just under 1 MiB (random pixels do not compress).
func faceMiB(b *testing.B) wallet.FaceImage {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewNRGBA(image.Rect(0, 0, 588, 588))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		b.Fatal(err)
	}
	if buf.Len() > rules.MaxImageBytes || buf.Len() < rules.MaxImageBytes*9/10 {
		b.Fatalf("face image is %d bytes, want just under 1 MiB", buf.Len())
	}
	return buf.Bytes()
}

// BenchmarkOpenFaceMiB is account.Open with a face image of just under
// 1 MiB against an in-memory bank whose work is off the clock: the SDK's
// time and bytes allocated for the largest request of the protocol.
func BenchmarkOpenFaceMiB(b *testing.B) {
	bank := wallettest.NewMockBank(b)
	p := wallettest.Person()
	bank.Reply("account/open", `{"account_no":"6236880000000001","user_id":"`+p.UserID+`","status":"NORMAL",`+
		`"bound_card":{"bank_name":"b","card_no_masked":"6222********1234"},"opened_at":"2026-11-25 16:00:00"}`)
	c := bank.Client(wallet.WithHTTPClient(&http.Client{Transport: offTheClock{b: b, next: bank}}))
	svc := account.New(c)
	face := faceMiB(b)
	req := account.OpenRequest{UserID: p.UserID, VerifyToken: "VT1", Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo,
		Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "123456", FaceImage: face, Password: wallettest.PIN(b, c)}
	b.SetBytes(int64(len(face)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.OpenAccount(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(face)), "image-B")
}

// offTheClock stops b's timer (and its memory count) while the bank in
// next works, so that a benchmark of client calls measures the SDK alone.
// The client calls its transport on the benchmark's goroutine, the only
// one allowed to stop the timer.
type offTheClock struct {
	b    *testing.B
	next http.RoundTripper
}

func (o offTheClock) RoundTrip(r *http.Request) (*http.Response, error) {
	o.b.StopTimer()
	defer o.b.StartTimer()
	return o.next.RoundTrip(r)
}
