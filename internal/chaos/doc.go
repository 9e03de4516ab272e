// Package chaos tests the SDK beyond one process: merchant processes
// killed with SIGKILL around money calls and recovered from their journal
// (FileJournal, or the Redis journal), the SDK behind a real fault proxy
// (Toxiproxy, in-process on loopback), and sustained load from several
// clients against a standalone sandbox. It holds tests only; README.md says
// how to run them and what they found.
//
// It is a module of its own (github.com/xinyun-open/ewallet-go/internal/chaos),
// so that the SDK does not depend on Toxiproxy or a Redis client.
package chaos
