package statement_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/payment/statement"
	"github.com/xinyun-open/ewallet-go/wallet"
)

func TestRequestJSONRoundTripAndBadDate(t *testing.T) {
	var r statement.Request
	require.NoError(t, json.Unmarshal([]byte(`{"bill_date":"2026-11-25","bill_type":"TRADE"}`), &r))
	require.Equal(t, "2026-11-25", r.Date.Format("2006-01-02"))
	require.Equal(t, statement.Trade, r.Type)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.JSONEq(t, `{"bill_date":"2026-11-25","bill_type":"TRADE"}`, string(b))

	for _, bad := range []string{`{"bill_date":"2026-1-5","bill_type":"TRADE"}`, `{"bill_type":"TRADE"}`, `{"bill_date":"25/11/2026"}`} {
		err := json.Unmarshal([]byte(bad), &r)
		var fe *wallet.FieldError
		require.ErrorAs(t, err, &fe, bad)
		require.Equal(t, "bill_date", fe.Field)
	}
}
