package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The test binary is also the helper programs: run again with roleEnv set,
// it becomes a standalone sandbox bank or a merchant process instead of
// running the tests, so that a test can kill them with SIGKILL.
const roleEnv = "EWALLET_CHAOS_ROLE"

func TestMain(m *testing.M) {
	// Toxiproxy's toxics log through zerolog's global logger (the
	// bandwidth toxic at trace level, on every interrupted connection).
	zerolog.SetGlobalLevel(zerolog.WarnLevel)
	switch role := os.Getenv(roleEnv); role {
	case "":
		os.Exit(m.Run())
	case "sandbox":
		os.Exit(runSandbox())
	case "merchant":
		os.Exit(runMerchant())
	case "shortwrite":
		os.Exit(runShortWrite())
	default:
		fmt.Fprintf(os.Stderr, "chaos: unknown %s %q\n", roleEnv, role)
		os.Exit(2)
	}
}

// runSandbox is the standalone sandbox: wallettest.StartServer on a free
// loopback port, its URL on the first line of stdout, until stdin closes
// (the test closes it, or dies).
func runSandbox() int {
	srv, stop, err := wallettest.StartServer(wallettest.WithAddr("127.0.0.1:0"), wallettest.WithoutNotifyReceiver(),
		wallettest.WithNotifyScale(0.001))
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos sandbox:", err)
		return 1
	}
	fmt.Printf("URL %s\n", srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	stop()
	return 0
}

// child is a helper process: the test binary run in a role. Its stdout is
// read line by line into lines; its stdin is the test's to write.
type child struct {
	role  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // closed when stdout closes
	done  chan struct{}
	err   error // the exit status, once done is closed
}

// startChild runs the test binary in role with the extra environment.
// The process is killed (by its pid) when the test ends, if still running.
func startChild(t *testing.T, role string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{roleEnv + "=" + role}, env...)...)
	cmd.Stderr = &prefixWriter{t: t, prefix: role + ": "}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{role: role, cmd: cmd, stdin: stdin, lines: make(chan string, 256), done: make(chan struct{})}
	var reading sync.WaitGroup
	reading.Go(func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	})
	go func() {
		reading.Wait() // Wait closes stdout: read it all first
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { c.kill() })
	return c
}

// kill sends SIGKILL to the child (by its pid) and waits for it to end.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// stop closes the child's stdin, which ends it, and waits up to d.
func (c *child) stop(d time.Duration) error {
	_ = c.stdin.Close()
	select {
	case <-c.done:
		return c.err
	case <-time.After(d):
		c.kill()
		return fmt.Errorf("the %s process did not end within %v after its stdin closed", c.role, d)
	}
}

// next returns the child's next stdout line, or fails after d.
func (c *child) next(d time.Duration) (string, error) {
	select {
	case l, ok := <-c.lines:
		if !ok {
			<-c.done
			return "", fmt.Errorf("the child ended (%v)", c.err)
		}
		return l, nil
	case <-time.After(d):
		return "", fmt.Errorf("no line from the child within %v", d)
	}
}

// startSandbox runs a standalone sandbox process and returns its URL.
func startSandbox(t *testing.T) (string, *child) {
	t.Helper()
	c := startChild(t, "sandbox")
	l, err := c.next(60 * time.Second)
	if err != nil {
		t.Fatalf("the sandbox process: %v", err)
	}
	url, ok := strings.CutPrefix(l, "URL ")
	if !ok {
		t.Fatalf("the sandbox process printed %q, want its URL", l)
	}
	t.Cleanup(func() {
		if err := c.stop(10 * time.Second); err != nil {
			t.Errorf("stopping the sandbox: %v", err)
		}
	})
	return url, c
}

// prefixWriter logs a child's stderr through the test, line by line.
type prefixWriter struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		w.t.Log(w.prefix + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// envInt reads a positive integer setting from the environment.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// envDuration reads a positive duration setting from the environment.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive Go duration such as 60s", name, v)
	}
	return d
}

// decodeLine splits "WORD {json}" and decodes the JSON into v.
func decodeLine(l, word string, v any) bool {
	rest, ok := strings.CutPrefix(l, word+" ")
	if !ok {
		return false
	}
	return json.Unmarshal([]byte(rest), v) == nil
}
