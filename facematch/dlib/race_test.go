//go:build race

package dlib_test

// raceEnabled reports whether the tests run under the race detector.
const raceEnabled = true
