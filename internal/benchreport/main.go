// Command benchreport runs the project's benchmarks in one go and prints the
// ratios docs/BENCHMARKS.md reports, each next to its target:
//
//	go run ./internal/benchreport             # about two minutes
//	go run ./internal/benchreport -count 5 -benchtime 2s
//
// Run it from the repository root: the tjfoc/gmsm comparison runs in the
// nested module sign/interop, the rest in the root module.
//
// All figures come from the same run on the same machine, so the ratios hold
// even where the absolute numbers do not travel. It is a plain `go test
// -bench` underneath; -raw prints its output too (for benchstat).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// The benchmarks the report needs, by package. dir is the module the
// package is in, relative to the repository root ("" for the root module):
// the comparison with tjfoc/gmsm runs in the nested module sign/interop,
// which keeps tjfoc out of the root module, and its own BenchmarkSign and
// BenchmarkVerify run there too so that both sides of the ratio come from
// one go test process.
//
// benchtime, when set, replaces -benchtime for that package: the
// statement benchmark is a whole million-line day per iteration (its
// floor and job alternate inside, and it keeps the best of each).
var packages = []struct{ dir, pkg, bench, benchtime string }{
	{"sign/interop", ".", "^Benchmark(Sign|Verify|TjfocSign|TjfocVerify)$", ""},
	{"", "./sign", "^Benchmark(Seal1KiB|Open1KiB)$", ""},
	{"", "./wallet", "^Benchmark(CallCryptoFloor|BankCryptoFloor|Do)$", ""},
	{"", "./internal/sandbox", "^BenchmarkGatewayWalletQuery$", ""},
	{"", "./internal/perf", "^Benchmark(E2E1|E2E8|OpenFaceMiB)$", ""},
	{"", "./payment/statement", "^BenchmarkMillionLines$", "3x"},
}

// result is the median of a benchmark's runs, per unit ("ns/op", "B/op",
// "calls/s/core", ...).
type result map[string]float64

func main() {
	count := flag.Int("count", 3, "runs of each benchmark (the report takes the median)")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	raw := flag.Bool("raw", false, "print go test's output as well")
	flag.Parse()

	if _, err := os.Stat("sign/interop/go.mod"); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport: run it from the repository root (sign/interop/go.mod not found)")
		os.Exit(2)
	}
	samples := map[string]map[string][]float64{}
	var out bytes.Buffer
	for _, p := range packages {
		bt := *benchtime
		if p.benchtime != "" {
			bt = p.benchtime
		}
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", p.bench, "-benchmem",
			"-count", strconv.Itoa(*count), "-benchtime", bt, p.pkg)
		cmd.Dir = p.dir
		cmd.Stderr = os.Stderr
		b, err := cmd.Output()
		out.Write(b)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchreport: %s: %v\n%s", path.Join(p.dir, p.pkg), err, b)
			os.Exit(1)
		}
		parse(b, samples)
	}
	if *raw {
		fmt.Print(out.String())
	}
	r := map[string]result{}
	for name, units := range samples {
		r[name] = result{}
		for unit, v := range units {
			r[name][unit] = median(v)
		}
	}
	report(r)
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(b []byte, into map[string]map[string][]float64) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		if into[m[1]] == nil {
			into[m[1]] = map[string][]float64{}
		}
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				into[m[1]][f[i+1]] = append(into[m[1]][f[i+1]], v)
			}
		}
	}
}

func median(v []float64) float64 {
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func report(r map[string]result) {
	ns := func(name string) float64 { return r[name]["ns/op"] }
	check := func(ok bool) string {
		if ok {
			return "holds"
		}
		return "MISSED"
	}
	fmt.Printf("machine: %s/%s, %d cores (GOMAXPROCS), %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), cpuModel())

	fmt.Println("per call, client side (wallet/query, encrypted):")
	floor, do := ns("BenchmarkCallCryptoFloor"), ns("BenchmarkDo")
	fmt.Printf("  crypto floor (sign + seal + verify + open)  %8.1f µs\n", floor/1e3)
	fmt.Printf("  SDK, Client.Do                              %8.1f µs  %5.0f B  %3.0f allocs\n", do/1e3, r["BenchmarkDo"]["B/op"], r["BenchmarkDo"]["allocs/op"])
	fmt.Printf("  SDK / floor                                 %8.2f ×   target ≤ 1.10×  %s\n\n", do/floor, check(do/floor <= 1.10))

	fmt.Println("signatures, ours (emmansun/gmsm) against tjfoc/gmsm:")
	for _, op := range []string{"Sign", "Verify"} {
		ours, theirs := ns("Benchmark"+op), ns("BenchmarkTjfoc"+op)
		fmt.Printf("  %-6s  ours %7.1f µs  tjfoc %8.1f µs  %5.1f× faster   target ≥ 10×  %s\n", op, ours/1e3, theirs/1e3, theirs/ours, check(theirs/ours >= 10))
	}
	fmt.Println()

	bank := ns("BenchmarkBankCryptoFloor")
	ceiling := 1e9 / (floor + bank)
	fmt.Println("end to end, client and sandbox on this machine, over loopback HTTP:")
	fmt.Printf("  crypto of one call, both sides              %8.1f µs (client %.1f + bank %.1f)\n", (floor+bank)/1e3, floor/1e3, bank/1e3)
	fmt.Printf("  ceiling it implies                          %8.0f calls/s per core\n", ceiling)
	for _, n := range []string{"BenchmarkE2E1", "BenchmarkE2E8"} {
		got := r[n]["calls/s/core"]
		fmt.Printf("  %-14s %8.0f calls/s  %6.0f calls/s/core  %4.0f%% of the ceiling", strings.TrimPrefix(n, "Benchmark"), r[n]["calls/s"], got, 100*got/ceiling)
		if n == "BenchmarkE2E8" {
			fmt.Printf("   target ≥ 75%%  %s", check(got/ceiling >= 0.75))
		}
		fmt.Println()
	}
	gw := ns("BenchmarkGatewayWalletQuery")
	fmt.Printf("  sandbox gateway alone                       %8.0f requests/s per core (%.1f µs each; its crypto %.1f µs)\n", 1e9/gw, gw/1e3, bank/1e3)
	fmt.Printf("  gateway / its crypto                        %8.2f ×   target ≤ 1.20×  %s  (%.0f B, %.0f allocs a request)\n\n",
		gw/bank, check(gw/bank <= 1.20), r["BenchmarkGatewayWalletQuery"]["B/op"], r["BenchmarkGatewayWalletQuery"]["allocs/op"])

	o := r["BenchmarkOpenFaceMiB"]
	ratio := o["B/op"] / o["image-B"]
	fmt.Println("account.Open with a face image of just under 1 MiB:")
	fmt.Printf("  %.1f ms, %.2f MB allocated for a %.2f MB image: %.2f× the image   target ≤ 4×  %s\n",
		o["ns/op"]/1e6, o["B/op"]/1e6, o["image-B"]/1e6, ratio, check(ratio <= 4))

	m := r["BenchmarkMillionLines"]
	fmt.Println("\na daily statement of 1,000,000 TRADE lines, downloaded over loopback, verified, parsed, reconciled")
	fmt.Println("against 1,000,000 merchant records (best of each run; the floor is SM4-GCM open + gunzip alone):")
	fmt.Printf("  job   %9.0f lines/s   floor %9.0f lines/s\n", m["lines/s"], m["floor-lines/s"])
	fmt.Printf("  job / floor, wall %5.2f ×  CPU %5.2f ×   target ≤ 2×  %s\n", m["x-floor"], m["x-floor-cpu"], check(m["x-floor"] <= 2))
	fmt.Printf("  peak heap  %6.1f MiB                   target < 64 MiB  %s\n", m["peak-heap-MiB"], check(m["peak-heap-MiB"] < 64))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "cpu unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "cpu unknown"
}
