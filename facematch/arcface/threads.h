#ifndef FACEGATE_THREADS_H
#define FACEGATE_THREADS_H
#ifdef __cplusplus
extern "C" {
#endif
void facegate_cv_set_threads(int n);
int facegate_cv_threads(void);
#ifdef __cplusplus
}
#endif
#endif
