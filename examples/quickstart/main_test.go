package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The quickstart is the README's first command: it must keep working on a
// fresh clone with no configuration.
func TestQuickstartCompletesTheJourney(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	for _, step := range []string{
		"wallet/query", "account/verify", "account/sms/send", "account/open", "payment/recharge", "payment/pay",
		"payment/refund", "payment/transfer", "payment/withdraw", "account/query", "h5 link", "notifications     7 received",
		"done:",
	} {
		require.Contains(t, out.String(), step)
	}
	require.Contains(t, out.String(), "balance ¥40.00", "200 recharged − 99 paid + 19 refunded − 30 transferred − 50 withdrawn")
}
