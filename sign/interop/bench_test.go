package interop_test

import (
	"crypto/rand"
	"testing"

	tjsm2 "github.com/tjfoc/gmsm/sm2"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Signing and verification, ours next to tjfoc/gmsm over the same message
// in the same run, so that `go test -bench . ./...` here prints the ratio
// DESIGN.md asks for (internal/benchreport reads it from this run). The
// benchmarks of sign alone are in sign/bench_test.go.

// benchMessage is the canonical string of a typical signed request: the
// envelope of wallet/query with an encrypted biz_content, as in
// sign/bench_test.go.
var benchMessage = []byte(sign.Canonical("/api/v1/wallet/query", map[string]string{
	"app_id":         "sandbox-app",
	"merchant_id":    "M100000001",
	"msg_id":         "3fc9228fbae88fd580663a0454b68312",
	"timestamp":      "2026-11-25 16:00:00",
	"version":        "1.0",
	"sign_type":      "SM2",
	"encrypt_type":   "SM4-GCM",
	"encrypt_key_id": "bank-2026-01",
	"encrypt_key":    "BFNMQHCopUCKi4JpVamx6JgdVyD9ibz4MbV+9yvUqo36K2qy0LrdZiyfL9G95/GNff5ZwIyCLYbv65imCfWi9q7ZD+HbZtjAHixr1eOXplxuOA0UbBTf6377zDZRRsgRdfI7OLtggqUK3B/vlz8FuP8=",
	"biz_content":    "fOFaTwpYJQ2PtQ53uNQMbCeZkrpCwn83O1m2V/G40aN+q5pCkHy6U5B95fWzuMc55yIeyOObcem+whwv0BGw4nSPzdRSdovk6D5Yy3lfTNBnRdS2hq+naN9LPhPzfSkbhlV1KGrcP9w=",
}))

func BenchmarkSign(b *testing.B) {
	k, err := sign.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign(benchMessage); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	k, err := sign.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	sig, err := k.Sign(benchMessage)
	if err != nil {
		b.Fatal(err)
	}
	pub := k.Public()
	b.ReportAllocs()
	for b.Loop() {
		if err := pub.Verify(benchMessage, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTjfocSign(b *testing.B) {
	k, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign(rand.Reader, benchMessage, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTjfocVerify(b *testing.B) {
	k, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	sig, err := k.Sign(rand.Reader, benchMessage, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !k.PublicKey.Verify(benchMessage, sig) {
			b.Fatal("verify failed")
		}
	}
}
