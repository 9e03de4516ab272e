//go:build race

package browser

// raceEnabled: this test binary runs with the race detector, so the app it
// builds and runs does too.
const raceEnabled = true
