package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpenAccount(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	require.Contains(t, out.String(), "caught locally: field id_number check digit does not match")
	require.Contains(t, out.String(), "PIN 123456 refused as weak")
	require.Regexp(t, `account 623688\d{10} opened \(NORMAL\)`, out.String())
}
