package statement_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/payment/statement"
	"github.com/xinyun-open/ewallet-go/sign"
)

// billVectors loads bill.json with the merchant's TEST key.
func billVectors(t testing.TB) (vectors.Bill, *sign.PrivateKey) {
	t.Helper()
	b, err := vectors.LoadBill()
	require.NoError(t, err)
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	k, err := sign.ParsePrivateKey([]byte(keys.Merchant.PrivatePEM))
	require.NoError(t, err)
	return b, k
}

// vectorDescriptor decodes a vector's descriptor as a client decodes
// biz_content (the vectors write numbers as strings).
func vectorDescriptor(t testing.TB, m map[string]string) statement.Descriptor {
	t.Helper()
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	var d statement.Descriptor
	require.NoError(t, json.Unmarshal(raw, &d))
	return d
}

func sm3Hex(b []byte) string {
	h := sm3.Sum(b)
	return hex.EncodeToString(h[:])
}

// TestVectorsValid opens every valid file to exactly its CSV, records and
// amount_sum, both from memory and downloaded over HTTP.
func TestVectorsValid(t *testing.T) {
	t.Parallel()
	b, key := billVectors(t)
	require.Len(t, b.Valid, 3)
	require.Equal(t, statement.SegmentSize, b.SegmentBytes)
	for _, v := range b.Valid {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			d := vectorDescriptor(t, v.Descriptor)
			fileKey, err := statement.OpenKey(context.Background(), key, d)
			require.NoError(t, err)
			file, err := base64.StdEncoding.DecodeString(v.FileB64)
			require.NoError(t, err)
			require.Equal(t, int64(len(file)), d.Size)

			read := func(st *statement.Statement, csv *bytes.Buffer) {
				var n, sum int64
				for rec, err := range st.Trades() {
					require.NoError(t, err)
					n++
					sum += rec.Amount
				}
				require.True(t, st.Complete())
				require.NoError(t, st.Err())
				require.Equal(t, d.Records, n)
				require.Equal(t, d.AmountSum, sum)
				require.Equal(t, v.CSVSM3, sm3Hex(csv.Bytes()), "SM3 of the CSV")
				// csv_head is the first lines; the header-only vector pads it with
				// empty lines the CSV does not have.
				require.True(t, strings.HasPrefix(csv.String(), strings.TrimRight(v.CSVHead, "\n")), "the CSV starts with csv_head")
			}

			var csv, raw bytes.Buffer
			st, err := statement.NewReader(bytes.NewReader(file), fileKey, d, statement.WithCSVCopy(&csv), statement.WithRawCopy(&raw))
			require.NoError(t, err)
			read(st, &csv)
			require.Equal(t, file, raw.Bytes(), "the raw copy is the file")

			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.ServeContent(w, r, "", zeroTime, bytes.NewReader(file))
			}))
			defer srv.Close()
			csv.Reset()
			st, err = statement.Download(context.Background(), statement.HTTPGet(srv.Client(), statement.FileURL(srv.URL, d.FileID)),
				fileKey, d, statement.WithCSVCopy(&csv))
			require.NoError(t, err)
			read(st, &csv)
		})
	}
}

// TestVectorsInvalid refuses every changed file, each for its own reason,
// although its descriptor carries the changed file's size and SM3.
func TestVectorsInvalid(t *testing.T) {
	t.Parallel()
	b, key := billVectors(t)
	base := b.Valid[0]
	file, err := base64.StdEncoding.DecodeString(base.FileB64)
	require.NoError(t, err)
	want := map[string]func(t *testing.T, err error){
		"one byte flipped inside segment 1":     segmentErr(1),
		"ends after segment 1: no last segment": is(statement.ErrTruncated),
		"a byte after the last segment":         is(statement.ErrTrailingData),
		"segments 0 and 1 swapped":              segmentErr(0),
		"wrong magic":                           is(statement.ErrMagic),
		"nonce prefix changed":                  segmentErr(0),
	}
	require.Len(t, b.Invalid, len(want))
	for _, c := range b.Invalid {
		t.Run(c.Why, func(t *testing.T) {
			t.Parallel()
			check, ok := want[c.Why]
			require.True(t, ok, "no expectation for %q", c.Why)
			changed := applyOp(t, file, c)
			require.Equal(t, c.SM3, sm3Hex(changed), "the change is applied as the vector says")
			m := map[string]string{}
			for k, v := range base.Descriptor {
				m[k] = v
			}
			m["size"], m["sm3"] = c.Size, c.SM3
			d := vectorDescriptor(t, m)
			fileKey, err := statement.OpenKey(context.Background(), key, d)
			require.NoError(t, err)
			st, err := statement.NewReader(bytes.NewReader(changed), fileKey, d)
			require.NoError(t, err)
			var last error
			for _, err := range st.Trades() {
				last = err
			}
			require.Error(t, last)
			check(t, last)
			require.False(t, st.Complete())
			require.Equal(t, last, st.Err())
		})
	}
}

// applyOp makes the changed file of an invalid vector.
func applyOp(t testing.TB, file []byte, c vectors.BillInvalid) []byte {
	t.Helper()
	out := bytes.Clone(file)
	switch c.Op {
	case "flip":
		out[c.Offset] ^= 0x01
	case "truncate":
		out = out[:c.Length]
	case "append":
		extra, err := hex.DecodeString(c.Hex)
		require.NoError(t, err)
		out = append(out, extra...)
	case "swap":
		const seg = statement.SegmentSize + 16
		a, b := 12+c.A*seg, 12+c.B*seg
		tmp := bytes.Clone(out[a : a+seg])
		copy(out[a:a+seg], out[b:b+seg])
		copy(out[b:b+seg], tmp)
	default:
		t.Fatalf("unknown op %q", c.Op)
	}
	size, err := strconv.Atoi(c.Size)
	require.NoError(t, err)
	require.Len(t, out, size)
	return out
}

func is(target error) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		require.ErrorIs(t, err, target)
	}
}

func segmentErr(index int64) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		require.ErrorIs(t, err, statement.ErrSegment)
		var se *statement.SegmentError
		require.True(t, errors.As(err, &se))
		require.Equal(t, index, se.Index)
	}
}
