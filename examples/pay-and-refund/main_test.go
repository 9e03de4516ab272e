package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPayAndRefund(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	t.Log("\n" + out.String())
	require.Contains(t, out.String(), "refunding more than is left: true")
	require.Contains(t, out.String(), "outcome unknown")
	require.Contains(t, out.String(), "¥66.00 taken once")
	require.Contains(t, out.String(), "the caller's context was cancelled mid-call: outcome unknown")
	require.Contains(t, out.String(), "resolved after the caller left")
	require.Contains(t, out.String(), "¥12.00 taken once")
	require.Contains(t, out.String(), "balance ¥322.00")
	require.Contains(t, out.String(), "pending orders: 0")
}
