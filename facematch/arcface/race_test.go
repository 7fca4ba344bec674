//go:build race

package arcface

// raceEnabled is true under the race detector, which makes the pure-Go
// reference interpreter of tflite_test.go minutes per input.
const raceEnabled = true
