// OpenCV's thread count, which gocv v0.32.0 does not wrap.
#include <opencv2/core.hpp>
#include "threads.h"

void facegate_cv_set_threads(int n) { cv::setNumThreads(n); }
int facegate_cv_threads(void) { return cv::getNumThreads(); }
