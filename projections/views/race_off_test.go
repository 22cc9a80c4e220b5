//go:build !race

package views

// raceDetector reports whether the tests run under the race detector.
const raceDetector = false
