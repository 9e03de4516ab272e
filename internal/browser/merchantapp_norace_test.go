//go:build !race

package browser

// raceEnabled: this test binary runs without the race detector.
const raceEnabled = false
