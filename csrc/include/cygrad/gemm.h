/* General matrix product with transposes through strides (BLIS-style row and column strides):
 *   C = alpha * A B + beta * C,   A: M x K, B: K x N, C: M x N
 * element (i, j) of A is A[i * rsa + j * csa]; likewise B and C. A transpose is a swap of strides.
 * beta == 0 overwrites C without reading it (NaN already in C does not leak). C must not overlap
 * A or B. K == 0 gives beta * C. alpha == 0 or K == 0 does not read A and B (as in BLAS).
 * Computed by a cache-blocked, packed GEMM with a micro-kernel per SIMD level (cg_simd_get()),
 * threaded with cg_parallel_for when the product is large enough. */
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

/* The same with the epilogue of nn.Linear applied while each tile of C is still in registers:
 *   C = relu?(alpha * A B + beta * C + bias),  bias[j] added to column j (bias may be NULL)
 * relu != 0 clamps negative results to 0 (NaN stays NaN). */
void cg_gemm_bias_f32(int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t rsa, int64_t csa,
                      const float *B, int64_t rsb, int64_t csb,
                      float beta, float *C, int64_t rsc, int64_t csc,
                      const float *bias, int relu);
void cg_gemm_bias_f64(int64_t M, int64_t N, int64_t K, double alpha,
                      const double *A, int64_t rsa, int64_t csa,
                      const double *B, int64_t rsb, int64_t csb,
                      double beta, double *C, int64_t rsc, int64_t csc,
                      const double *bias, int relu);

/* batch products C_i = alpha * A_i B_i + beta * C_i with A_i = A + i * bsa (likewise B_i, C_i):
 * bmm and batched matmul in one call, threads shared across the batch. A batch stride of 0
 * broadcasts that operand; the C_i must not overlap each other. */
void cg_gemm_batched_f32(int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                         const float *A, int64_t bsa, int64_t rsa, int64_t csa,
                         const float *B, int64_t bsb, int64_t rsb, int64_t csb,
                         float beta, float *C, int64_t bsc, int64_t rsc, int64_t csc);
void cg_gemm_batched_f64(int64_t batch, int64_t M, int64_t N, int64_t K, double alpha,
                         const double *A, int64_t bsa, int64_t rsa, int64_t csa,
                         const double *B, int64_t bsb, int64_t rsb, int64_t csb,
                         double beta, double *C, int64_t bsc, int64_t rsc, int64_t csc);

/* The depth of the float32 K slices (KC) on the current SIMD path: which blocking the GEMM chose
 * (it depends on the L1d's size; see CYGRAD_L1D_BYTES in the README), for tests and diagnostics. */
int64_t cg_gemm_kc_f32(void);

/* C = A B for int64 (no alpha/beta: integer products are plain), wrapping on overflow */
void cg_gemm_i64(int64_t M, int64_t N, int64_t K,
                 const int64_t *A, int64_t rsa, int64_t csa,
                 const int64_t *B, int64_t rsb, int64_t csb,
                 int64_t *C, int64_t rsc, int64_t csc);

#endif
