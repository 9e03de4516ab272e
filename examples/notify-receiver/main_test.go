package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNotifyReceiver(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	require.Contains(t, out.String(), "answer FAIL — the bank will deliver it again")
	require.Contains(t, out.String(), "ACCOUNT_OPENED: account")
	require.Contains(t, out.String(), "RECHARGE_SUCCEEDED: order")
	require.Contains(t, out.String(), `a duplicate delivery was answered 200 {"code":"SUCCESS"} and handled 2 times in all`)
}
