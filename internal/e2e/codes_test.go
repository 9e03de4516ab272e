package e2e

import (
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/wallet"
)

// Issue 13, item 4: the sandbox answers with exactly the codes the SDK
// knows. The sandbox's codes are its constants named code…, read from its
// source, so a code added to one side and not the other fails here.
func TestSandboxAndSDKKnowTheSameCodes(t *testing.T) {
	var sandbox []string
	for _, g := range declarations(t, "../sandbox", token.CONST) {
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "code") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				require.True(t, ok && lit.Kind == token.STRING, "%s is not a string literal", n.Name)
				v, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				if v != "SUCCESS" { // the one code that is not an error
					sandbox = append(sandbox, v)
				}
			}
		}
	}
	var sdk []string
	for _, c := range wallet.ErrorCodes() {
		sdk = append(sdk, string(c))
	}
	slices.Sort(sandbox)
	slices.Sort(sdk)
	require.NotEmpty(t, sandbox)
	require.Equal(t, sdk, sandbox, "wallet.ErrorCodes() and the sandbox's code constants differ")
}
