package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKeyRotation(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	require.Contains(t, out.String(), "configured: trusts bank-2026-01; encrypts to bank-2026-01")
	require.Contains(t, out.String(), "before the client learnt it: unverified=true")
	require.Contains(t, out.String(), "after platform/keys: trusts bank-2026-01 bank-2026-07; encrypts to bank-2026-07")
	require.Contains(t, out.String(), "answers verify")
}
