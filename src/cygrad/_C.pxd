# The only C boundary: declarations mirroring csrc/include/cygrad/*.h, nothing else.
from libc.stdint cimport int64_t

cdef extern from "cygrad/simd.h" nogil:
    int cg_simd_best()
    int cg_simd_get()
    int cg_simd_set(int level)
    const char *cg_simd_name(int level)

cdef extern from "cygrad/elementwise.h" nogil:
    enum: CG_MAX_DIMS
    enum: CG_MAX_OPERANDS
    ctypedef struct cg_iter:
        int ndim
        int64_t shape[CG_MAX_DIMS]
        int64_t strides[CG_MAX_OPERANDS][CG_MAX_DIMS]

    void cg_add_fwd_f32(const cg_iter *it, float *out, const float *a, const float *b)
    void cg_add_fwd_f64(const cg_iter *it, double *out, const double *a, const double *b)
    void cg_add_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b)
    void cg_sub_fwd_f32(const cg_iter *it, float *out, const float *a, const float *b)
    void cg_sub_fwd_f64(const cg_iter *it, double *out, const double *a, const double *b)
    void cg_sub_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b)
    void cg_mul_fwd_f32(const cg_iter *it, float *out, const float *a, const float *b)
    void cg_mul_fwd_f64(const cg_iter *it, double *out, const double *a, const double *b)
    void cg_mul_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b)
    void cg_div_fwd_f32(const cg_iter *it, float *out, const float *a, const float *b)
    void cg_div_fwd_f64(const cg_iter *it, double *out, const double *a, const double *b)
    void cg_pow_fwd_f32(const cg_iter *it, float *out, const float *a, const float *b)
    void cg_pow_fwd_f64(const cg_iter *it, double *out, const double *a, const double *b)
    void cg_pow_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b)

    void cg_neg_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_neg_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_neg_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *x)
    void cg_abs_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_abs_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_abs_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *x)
    void cg_exp_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_exp_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_log_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_log_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_sqrt_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_sqrt_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_sin_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_sin_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_cos_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_cos_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_relu_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_relu_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_relu_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *x)
    void cg_sigmoid_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_sigmoid_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_tanh_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_tanh_fwd_f64(const cg_iter *it, double *out, const double *x)

    void cg_pow_scalar_fwd_f32(const cg_iter *it, float *out, const float *x, double e)
    void cg_pow_scalar_fwd_f64(const cg_iter *it, double *out, const double *x, double e)

    void cg_relu_bwd_f32(const cg_iter *it, float *gx, const float *y, const float *gy)
    void cg_relu_bwd_f64(const cg_iter *it, double *gx, const double *y, const double *gy)
    void cg_sigmoid_bwd_f32(const cg_iter *it, float *gx, const float *y, const float *gy)
    void cg_sigmoid_bwd_f64(const cg_iter *it, double *gx, const double *y, const double *gy)
    void cg_tanh_bwd_f32(const cg_iter *it, float *gx, const float *y, const float *gy)
    void cg_tanh_bwd_f64(const cg_iter *it, double *gx, const double *y, const double *gy)
    void cg_abs_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy)
    void cg_abs_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy)
    void cg_sqrt_bwd_f32(const cg_iter *it, float *gx, const float *y, const float *gy)
    void cg_sqrt_bwd_f64(const cg_iter *it, double *gx, const double *y, const double *gy)
    void cg_sin_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy)
    void cg_sin_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy)
    void cg_cos_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy)
    void cg_cos_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy)
    void cg_pow_scalar_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy, double e)
    void cg_pow_scalar_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy, double e)
    void cg_pow_bwd_base_f32(const cg_iter *it, float *ga, const float *a, const float *b, const float *gy)
    void cg_pow_bwd_base_f64(const cg_iter *it, double *ga, const double *a, const double *b, const double *gy)
    void cg_pow_bwd_exp_f32(const cg_iter *it, float *gb, const float *a, const float *b, const float *y, const float *gy)
    void cg_pow_bwd_exp_f64(const cg_iter *it, double *gb, const double *a, const double *b, const double *y, const double *gy)

cdef extern from "cygrad/reduce.h" nogil:
    void cg_sum_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner)
    void cg_sum_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner)
    void cg_sum_i64(const int64_t *x, int64_t *out, int64_t outer, int64_t r, int64_t inner)
    void cg_max_f32(const float *x, float *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner)
    void cg_max_f64(const double *x, double *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner)
    void cg_max_i64(const int64_t *x, int64_t *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner)
    void cg_min_f32(const float *x, float *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner)
    void cg_min_f64(const double *x, double *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner)
    void cg_min_i64(const int64_t *x, int64_t *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner)
    void cg_index_bwd_f32(const float *gy, const int64_t *indices, float *gx, int64_t outer, int64_t r, int64_t inner)
    void cg_index_bwd_f64(const double *gy, const int64_t *indices, double *gx, int64_t outer, int64_t r, int64_t inner)
    void cg_extreme_bwd_f32(const float *x, float value, float gy, float *gx, int64_t n)
    void cg_extreme_bwd_f64(const double *x, double value, double gy, double *gx, int64_t n)

cdef extern from "cygrad/gemm.h" nogil:
    void cg_gemm_f32(int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t rsa, int64_t csa,
                     const float *B, int64_t rsb, int64_t csb,
                     float beta, float *C, int64_t rsc, int64_t csc)
    void cg_gemm_f64(int64_t M, int64_t N, int64_t K, double alpha,
                     const double *A, int64_t rsa, int64_t csa,
                     const double *B, int64_t rsb, int64_t csb,
                     double beta, double *C, int64_t rsc, int64_t csc)

    void cg_gemm_i64(int64_t M, int64_t N, int64_t K,
                     const int64_t *A, int64_t rsa, int64_t csa,
                     const int64_t *B, int64_t rsb, int64_t csb,
                     int64_t *C, int64_t rsc, int64_t csc)

cdef extern from "cygrad/nn.h" nogil:
    void cg_softmax_fwd_f32(const float *x, float *y, int64_t outer, int64_t r, int64_t inner)
    void cg_softmax_fwd_f64(const double *x, double *y, int64_t outer, int64_t r, int64_t inner)
    void cg_softmax_bwd_f32(const float *y, const float *gy, float *gx, int64_t outer, int64_t r, int64_t inner)
    void cg_softmax_bwd_f64(const double *y, const double *gy, double *gx, int64_t outer, int64_t r, int64_t inner)
    void cg_log_softmax_fwd_f32(const float *x, float *y, int64_t outer, int64_t r, int64_t inner)
    void cg_log_softmax_fwd_f64(const double *x, double *y, int64_t outer, int64_t r, int64_t inner)
    void cg_log_softmax_bwd_f32(const float *y, const float *gy, float *gx, int64_t outer, int64_t r, int64_t inner)
    void cg_log_softmax_bwd_f64(const double *y, const double *gy, double *gx, int64_t outer, int64_t r, int64_t inner)

from libc.stdint cimport int32_t, uint8_t

cdef extern from "cygrad/index.h" nogil:
    ctypedef struct cg_index_iter:
        int64_t outer, n, inner
        int64_t src[3]
        int64_t idx[3]
        int64_t dst[3]

    void cg_gather_f32(const cg_index_iter *it, float *dst, const float *src, const int64_t *idx)
    void cg_gather_f64(const cg_index_iter *it, double *dst, const double *src, const int64_t *idx)
    void cg_gather_i64(const cg_index_iter *it, int64_t *dst, const int64_t *src, const int64_t *idx)
    void cg_gather_i32(const cg_index_iter *it, int32_t *dst, const int32_t *src, const int64_t *idx)
    void cg_gather_b8(const cg_index_iter *it, uint8_t *dst, const uint8_t *src, const int64_t *idx)
    void cg_scatter_f32(const cg_index_iter *it, float *dst, const float *src, const int64_t *idx)
    void cg_scatter_f64(const cg_index_iter *it, double *dst, const double *src, const int64_t *idx)
    void cg_scatter_i64(const cg_index_iter *it, int64_t *dst, const int64_t *src, const int64_t *idx)
    void cg_scatter_i32(const cg_index_iter *it, int32_t *dst, const int32_t *src, const int64_t *idx)
    void cg_scatter_b8(const cg_index_iter *it, uint8_t *dst, const uint8_t *src, const int64_t *idx)
    void cg_scatter_add_f32(const cg_index_iter *it, float *dst, const float *src, const int64_t *idx)
    void cg_scatter_add_f64(const cg_index_iter *it, double *dst, const double *src, const int64_t *idx)
    void cg_scatter_add_i64(const cg_index_iter *it, int64_t *dst, const int64_t *src, const int64_t *idx)
    void cg_scatter_add_i32(const cg_index_iter *it, int32_t *dst, const int32_t *src, const int64_t *idx)

    void cg_index_find_invalid_i64(const int64_t *idx, int64_t n, int64_t size, int allow_negative,
                                   int64_t *position)
    void cg_index_linearize_i64(const int64_t *idx, int64_t n, int64_t size, int64_t stride, int accumulate,
                                int64_t *lin)
