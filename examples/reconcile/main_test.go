package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The day's reconciliation finds exactly the payment whose answer was lost,
// and is clean once it is booked.
func TestReconcileFindsTheMissedPayment(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	s := out.String()
	for _, line := range []string{
		"the statement before the day ended: true",
		"statement 7 lines ¥850.90, books 6 lines ¥805.90, matched 6, differences 1",
		"MISSING_IN_BOOKS PAY",
		"¥45.00 SUCCESS at the bank",
		"the missed payment is found:",
		"statement 7 lines ¥850.90, books 7 lines ¥850.90, matched 7, differences 0",
		"reconciled: clean",
	} {
		require.Contains(t, s, line)
	}
}
