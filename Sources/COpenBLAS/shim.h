// The only door to OpenBLAS. Debian's libopenblas-dev puts cblas.h under
// /usr/include/x86_64-linux-gnu/openblas-pthread (found through pkg-config).
#include <cblas.h>
// Declared by OpenBLAS (openblas_config.h / cblas.h) — repeated for clarity.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
// LAPACK from OpenBLAS (Fortran symbol; the two trailing lengths are the hidden lengths of the
// character arguments). Used only through Contrastive/Tensor/LAPACK.swift.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
