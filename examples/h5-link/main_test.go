package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestH5Link(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	for _, page := range []string{"/h5/open?", "/h5/wallet?", "/h5/recharge?", "/h5/withdraw?", "/h5/pay?", "/h5/card?", "/h5/password?", "/h5/close?"} {
		require.Contains(t, out.String(), page)
	}
	require.Contains(t, out.String(), "opening the wallet link (1): HTTP 200")
	require.Contains(t, out.String(), "opening the wallet link (2): HTTP 403", "a link is taken once")
	require.Contains(t, out.String(), "invalid return_url")
	require.Contains(t, out.String(), "a forged return redirect: h5: bad return redirect")
}
