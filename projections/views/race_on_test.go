//go:build race

package views

// raceDetector reports whether the tests run under the race detector,
// where the sweeps that check results rather than concurrency run one seed
// (the plain run has them all).
const raceDetector = true
