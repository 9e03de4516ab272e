// Package examples_test checks the examples as a merchant meets them: each
// example, copied alone (its files, not its tests) into an empty module,
// builds, links no test code, and runs against a standalone sandbox
// without touching the sandbox's built-in test merchant.
package examples_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// forbidden are packages an example binary must not link: test code.
var forbidden = []string{"testing", "github.com/jarcoal/httpmock", "github.com/stretchr/testify"}

// runs is how each example is run against a standalone sandbox, and a line
// its output must hold.
var runs = map[string]struct {
	args []string // after -base-url
	want string
}{
	"quickstart":      {nil, "notifications     7 received"},
	"keygen":          {[]string{"-out", "{tmp}"}, "a call signed with another key is refused"},
	"open-account":    {nil, "opened (NORMAL)"},
	"pay-and-refund":  {nil, "balance ¥322.00"},
	"notify-receiver": {nil, "handled 2 times in all"},
	"h5-link":         {nil, "a forged return redirect"},
	"key-rotation":    {nil, "answers verify"},
	"remote-signer":   {nil, "and never held the private key"},
	"reconcile":       {nil, "the missed payment is found"},
}

// servers are examples that serve until stopped: they are copied and
// built like the others, and their own main_test.go runs them.
var servers = map[string]bool{"sandbox": true, "pin-pad": true, "merchant-app": true}

func TestExamplesCopiedIntoAnEmptyModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every example in a module of its own")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	require.NotNil(t, goVersion, "the go line of go.mod")
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)

	mains, err := filepath.Glob("*/main.go")
	require.NoError(t, err)
	var names, ran []string
	for _, m := range mains {
		name := filepath.Dir(m)
		names = append(names, name)
		if !servers[name] {
			ran = append(ran, name)
		}
	}
	require.ElementsMatch(t, keys(runs), ran, "every example that ends is built and run here")

	bin := t.TempDir()
	t.Run("build", func(t *testing.T) {
		for _, name := range names {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				// Every file of the example but its tests: its other .go files
				// and what it embeds (templates, static files).
				require.NoError(t, os.CopyFS(dir, os.DirFS(name)))
				tests, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
				require.NoError(t, err)
				for _, f := range tests {
					require.NoError(t, os.Remove(f))
				}
				mod := "module example.com/merchant/" + name + "\n\ngo " + string(goVersion[1]) + "\n\n" +
					"require github.com/xinyun-open/ewallet-go v0.2.0\n\n" +
					"replace github.com/xinyun-open/ewallet-go => " + root + "\n"
				require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), goSum, 0o644))

				goCmd(t, goBin, dir, "build", "-o", filepath.Join(bin, name), ".")
				deps := strings.Fields(goCmd(t, goBin, dir, "list", "-deps", "."))
				require.Contains(t, deps, "github.com/xinyun-open/ewallet-go/wallet", "the SDK is linked")
				for _, d := range deps {
					for _, f := range forbidden {
						require.False(t, d == f || strings.HasPrefix(d, f+"/"), "%s links %s", name, d)
					}
				}
				imports := strings.Fields(goCmd(t, goBin, dir, "list", "-f", `{{join .Imports " "}}`, "."))
				for _, imp := range imports {
					require.NotContains(t, imp, "/internal/", "%s imports %s: only the public API", name, imp)
				}
			})
		}
	})
	if t.Failed() {
		return
	}

	t.Run("against a standalone sandbox", func(t *testing.T) {
		s, stop, err := wallettest.StartServer() // the built-in test merchant notifies its built-in receiver
		require.NoError(t, err)
		t.Cleanup(stop)
		defaultURL := defaultMerchantNotifyURL(t, s)
		for _, name := range ran {
			r := runs[name]
			args := []string{"-base-url", s.URL}
			for _, a := range r.args {
				args = append(args, strings.ReplaceAll(a, "{tmp}", t.TempDir()))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			cancel()
			require.NoError(t, err, "%s %v\nstdout:\n%s\nstderr:\n%s", name, args, stdout.String(), stderr.String())
			require.Contains(t, stdout.String(), r.want, name)
			require.Contains(t, stdout.String(), s.URL, "%s ran against the standalone sandbox", name)
		}

		// No example re-registered or repointed the built-in merchant: it
		// still notifies its own receiver, which was never told otherwise.
		require.Equal(t, defaultURL, defaultMerchantNotifyURL(t, s))
		merchantID := s.Config().MerchantID
		for _, d := range s.Deliveries() {
			if d.MerchantID == merchantID {
				require.Equal(t, defaultURL, d.URL, "the built-in merchant's %s", d.NotifyType)
			}
		}
	})
}

func goCmd(t *testing.T, goBin, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	// Offline, from the module cache the repository's own build filled;
	// -mod=mod lets go add the requirements main.go needs to go.mod.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "go %s in %s:\n%s", strings.Join(args, " "), dir, stderr.String())
	return stdout.String()
}

// defaultMerchantNotifyURL makes the built-in test merchant open an
// account and returns where the sandbox sent the ACCOUNT_OPENED, after
// checking that the built-in receiver got it.
func defaultMerchantNotifyURL(t *testing.T, s *wallettest.Server) string {
	t.Helper()
	a, err := wallettest.Open(context.Background(), s.Client(), wallettest.Person())
	require.NoError(t, err)
	var url string
	require.Eventually(t, func() bool {
		for _, e := range s.Notifications() {
			if acct, err := e.Account(); err == nil && acct.AccountNo == a.AccountNo {
				for _, d := range s.Deliveries() {
					if d.NotifyID == e.ID {
						url = d.URL
					}
				}
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond, "the built-in merchant's notification reached the built-in receiver")
	require.NotEmpty(t, url)
	return url
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
