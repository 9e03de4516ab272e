// Command testall is the project's test command, the one the README gives
// and CI runs: go vet, go test -race, and one run of every benchmark (a
// benchmark nobody runs breaks unseen) in the root module and in every
// nested module of the repository (a folder with its own go.mod: the
// browser tests, the tjfoc interop tests, the Redis and SQL stores),
// which go test ./... alone does not enter.
//
//	go run ./internal/testall            # every module
//	go run ./internal/testall -short     # skips the slowest tests
//	go run ./internal/testall -bench=false  # without the one run of every benchmark
//
// Tests that need a server they cannot find (Chromium, openssl, Redis,
// PostgreSQL) skip with a message naming it; CI installs them and sets the
// EWALLET_REQUIRE_* variables, which turn those skips into failures.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	short := flag.Bool("short", false, "pass -short to go test")
	race := flag.Bool("race", true, "pass -race to go test")
	bench := flag.Bool("bench", true, "run every benchmark once too (without -race), so that one that broke is caught")
	flag.Parse()
	if _, err := os.Stat(filepath.Join("internal", "testall", "main.go")); err != nil {
		fmt.Fprintln(os.Stderr, "testall: run it from the repository root")
		os.Exit(2)
	}
	mods, err := modules(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testall:", err)
		os.Exit(2)
	}
	testArgs := []string{"test"}
	if *race {
		testArgs = append(testArgs, "-race")
	}
	if *short {
		testArgs = append(testArgs, "-short")
	}
	testArgs = append(testArgs, "./...")
	var failed []string
	for _, dir := range mods {
		start := time.Now()
		fmt.Printf("== %s\n", dir)
		steps := [][]string{{"vet", "./..."}, testArgs}
		if *bench {
			steps = append(steps, []string{"test", "-run", "^$", "-bench", ".", "-benchtime", "1x", "./..."})
		}
		for _, args := range steps {
			cmd := exec.Command("go", args...)
			cmd.Dir = dir
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				failed = append(failed, dir+": go "+strings.Join(args, " "))
			}
		}
		fmt.Printf("== %s: %s\n", dir, time.Since(start).Round(time.Second))
	}
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "testall: failed:\n  %s\n", strings.Join(failed, "\n  "))
		os.Exit(1)
	}
	fmt.Printf("testall: %d modules, all passed\n", len(mods))
}

// modules lists the root and every folder below it with a go.mod, root
// first.
func modules(root string) ([]string, error) {
	mods := []string{"."}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == "go.mod" && path != "go.mod" {
			mods = append(mods, filepath.Dir(path))
		}
		return nil
	})
	return mods, err
}
