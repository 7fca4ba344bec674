package arcface

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: -std=c++11
#include "threads.h"
*/
import "C"

// SetOpenCVThreads sets the number of threads OpenCV's own parallel loops
// (the dnn layers among them) use, process-wide: 1 runs each network call
// on its caller's thread, which is what a pool of workers wants; 0 or less
// restores OpenCV's default (one per CPU). Open calls it as its
// Config.OpenCVThreads says.
func SetOpenCVThreads(n int) {
	if n <= 0 {
		n = -1 // OpenCV: reset to the default
	}
	C.facegate_cv_set_threads(C.int(n))
}

// OpenCVThreads returns the number of threads OpenCV's parallel loops use.
func OpenCVThreads() int { return int(C.facegate_cv_threads()) }
