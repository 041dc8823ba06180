/* General matrix product with transposes through strides (BLIS-style row and column strides):
 *   C = alpha * A B + beta * C,   A: M x K, B: K x N, C: M x N
 * element (i, j) of A is A[i * rsa + j * csa]; likewise B and C. A transpose is a swap of strides.
 * beta == 0 overwrites C without reading it (NaN already in C does not leak). C must not overlap
 * A or B. K == 0 gives beta * C. */
#ifndef CYGRAD_GEMM_H
#define CYGRAD_GEMM_H
#include <stdint.h>

void cg_gemm_f32(int64_t M, int64_t N, int64_t K, float alpha,
                 const float *A, int64_t rsa, int64_t csa,
                 const float *B, int64_t rsb, int64_t csb,
                 float beta, float *C, int64_t rsc, int64_t csc);
void cg_gemm_f64(int64_t M, int64_t N, int64_t K, double alpha,
                 const double *A, int64_t rsa, int64_t csa,
                 const double *B, int64_t rsb, int64_t csb,
                 double beta, double *C, int64_t rsc, int64_t csc);

/* C = A B for int64 (no alpha/beta: integer products are plain), wrapping on overflow */
void cg_gemm_i64(int64_t M, int64_t N, int64_t K,
                 const int64_t *A, int64_t rsa, int64_t csa,
                 const int64_t *B, int64_t rsb, int64_t csb,
                 int64_t *C, int64_t rsc, int64_t csc);

#endif
