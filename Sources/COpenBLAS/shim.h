// The only door to OpenBLAS. Debian's libopenblas-dev puts cblas.h under
// /usr/include/x86_64-linux-gnu/openblas-pthread (found through pkg-config).
#include <cblas.h>
// Declared by OpenBLAS (openblas_config.h / cblas.h) — repeated for clarity.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
