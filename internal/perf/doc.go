// Package perf holds the benchmarks that measure the SDK as a whole
// against the in-process sandbox: calls per second over loopback with 1 and 8
// concurrent callers, and the allocation of an account opening with a 1 MiB
// face image. The per-package benchmarks (sign, wallet, internal/sandbox)
// measure the parts; cmd/benchreport runs them all in one go and prints
// the ratios docs/BENCHMARKS.md reports.
package perf
