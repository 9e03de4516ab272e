package sign_test

import (
	"bytes"
	"testing"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Benchmarks of the primitives. The comparison with tjfoc/gmsm runs in the
// nested module sign/interop (`cd sign/interop && go test -bench .`), which
// keeps tjfoc out of this module's requirements.

// benchFields is a typical signed request: the envelope of wallet/query
// with an encrypted biz_content.
var benchFields = map[string]string{
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
}

const benchPath = "/api/v1/wallet/query"

func BenchmarkCanonical(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = sign.Canonical(benchPath, benchFields)
	}
}

func BenchmarkSign(b *testing.B) {
	k := testKey(b)
	msg := []byte(sign.Canonical(benchPath, benchFields))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignCanonical(b *testing.B) {
	k := testKey(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sign.SignCanonical(ctx, k, benchPath, benchFields); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	k := testKey(b)
	msg := []byte(sign.Canonical(benchPath, benchFields))
	sig, _ := k.Sign(msg)
	pub := k.Public()
	b.ReportAllocs()
	for b.Loop() {
		if err := pub.Verify(msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSealOpen(b *testing.B, size int, open bool) {
	k := testKey(b)
	pt := bytes.Repeat([]byte{'x'}, size)
	ek, ct, _ := sign.Seal(k.Public(), pt, "3fc9228fbae88fd580663a0454b68312")
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if open {
			_, err = sign.Open(ctx, k, ek, ct, "3fc9228fbae88fd580663a0454b68312")
		} else {
			_, _, err = sign.Seal(k.Public(), pt, "3fc9228fbae88fd580663a0454b68312")
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal1KiB(b *testing.B) { benchSealOpen(b, 1<<10, false) }
func BenchmarkOpen1KiB(b *testing.B) { benchSealOpen(b, 1<<10, true) }
func BenchmarkSeal1MiB(b *testing.B) { benchSealOpen(b, 1<<20, false) }
func BenchmarkOpen1MiB(b *testing.B) { benchSealOpen(b, 1<<20, true) }

func BenchmarkEncryptPIN(b *testing.B) {
	k := testKey(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sign.EncryptPIN(k.Public(), "135790"); err != nil {
			b.Fatal(err)
		}
	}
}
