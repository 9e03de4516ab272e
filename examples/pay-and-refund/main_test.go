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
	require.Contains(t, out.String(), "refunding more than is left: true")
	require.Contains(t, out.String(), "outcome unknown")
	require.Contains(t, out.String(), "¥66.00 taken once")
	require.Contains(t, out.String(), "balance ¥334.00")
}
