package wallettest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func ExampleLogs() {
	var logs wallettest.Logs
	log := logs.Logger()
	log.Debug("wallet: call", "path", "wallet/query", "code", "SUCCESS")
	fmt.Print(logs.String())
	// Output: level=DEBUG msg="wallet: call" path=wallet/query code=SUCCESS
}

func TestLogsFromManyGoroutines(t *testing.T) {
	var logs wallettest.Logs
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := logs.Logger().With("g", i)
			for range 100 {
				log.Info("line")
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 800, strings.Count(logs.String(), "msg=line"))
	require.NotContains(t, logs.String(), "time=")
}
