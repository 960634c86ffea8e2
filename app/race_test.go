//go:build race

package app

// raceDetector: the tests run under the race detector, whose shadow memory
// multiplies the process's resident memory.
const raceDetector = true
