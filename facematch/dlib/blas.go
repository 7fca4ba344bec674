package dlib

// #cgo LDFLAGS: -ldl
// #include <dlfcn.h>
//
// typedef void (*set_fn)(int);
// typedef int (*get_fn)(void);
//
// // blas_threads sets OpenBLAS's thread count when n > 0 and returns the
// // count in force, or -1 when the process's BLAS is not OpenBLAS.
// static int blas_threads(int n) {
// 	set_fn set = (set_fn)dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
// 	get_fn get = (get_fn)dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
// 	if (set == 0 || get == 0) return -1;
// 	if (n > 0) set(n);
// 	return get();
// }
import "C"

// SetBLASThreads sets how many threads OpenBLAS uses for one matrix product,
// process-wide, when OpenBLAS is the BLAS dlib runs on (Debian's default
// alternative), and returns the count in force: -1 when the BLAS is not
// OpenBLAS, and the current count without changing it when n <= 0.
//
// Open sets it to 1 unless Config.BLASThreads says otherwise: the pool runs
// one image per recognizer on each core, and OpenBLAS's own threads (by
// default one per core) then compete with the pool for the same cores and
// spin while they wait. BenchmarkThroughput measures both: on a 640×480
// photo on an otherwise idle 2-core machine, go-face with OpenBLAS's
// default 2 threads used 77 ms of CPU per face for 39 ms of wall time; one
// recognizer with 1 thread 42 ms of CPU for 41 ms.
func SetBLASThreads(n int) int {
	return int(C.blas_threads(C.int(n)))
}
