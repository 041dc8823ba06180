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
    int64_t cg_gemm_kc_f32()
    void cg_gemm_f32(int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t rsa, int64_t csa,
                     const float *B, int64_t rsb, int64_t csb,
                     float beta, float *C, int64_t rsc, int64_t csc)
    void cg_gemm_f64(int64_t M, int64_t N, int64_t K, double alpha,
                     const double *A, int64_t rsa, int64_t csa,
                     const double *B, int64_t rsb, int64_t csb,
                     double beta, double *C, int64_t rsc, int64_t csc)

    void cg_gemm_bias_f32(int64_t M, int64_t N, int64_t K, float alpha,
                          const float *A, int64_t rsa, int64_t csa,
                          const float *B, int64_t rsb, int64_t csb,
                          float beta, float *C, int64_t rsc, int64_t csc,
                          const float *bias, int relu)
    void cg_gemm_bias_f64(int64_t M, int64_t N, int64_t K, double alpha,
                          const double *A, int64_t rsa, int64_t csa,
                          const double *B, int64_t rsb, int64_t csb,
                          double beta, double *C, int64_t rsc, int64_t csc,
                          const double *bias, int relu)
    void cg_gemm_batched_f32(int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                             const float *A, int64_t bsa, int64_t rsa, int64_t csa,
                             const float *B, int64_t bsb, int64_t rsb, int64_t csb,
                             float beta, float *C, int64_t bsc, int64_t rsc, int64_t csc)
    void cg_gemm_batched_f64(int64_t batch, int64_t M, int64_t N, int64_t K, double alpha,
                             const double *A, int64_t bsa, int64_t rsa, int64_t csa,
                             const double *B, int64_t bsb, int64_t rsb, int64_t csb,
                             double beta, double *C, int64_t bsc, int64_t rsc, int64_t csc)
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

cdef extern from "cygrad/loss.h" nogil:
    void cg_cross_entropy_fwd_f32(const float *logits, const int64_t *target, const float *weight, int64_t n, int64_t c, int64_t ignore_index, double eps, float *log_probs, float *loss, float *row_weight)
    void cg_cross_entropy_fwd_f64(const double *logits, const int64_t *target, const double *weight, int64_t n, int64_t c, int64_t ignore_index, double eps, double *log_probs, double *loss, double *row_weight)
    void cg_cross_entropy_bwd_f32(const float *log_probs, const int64_t *target, const float *weight, const float *row_grad, int64_t n, int64_t c, int64_t ignore_index, double eps, float *grad_logits)
    void cg_cross_entropy_bwd_f64(const double *log_probs, const int64_t *target, const double *weight, const double *row_grad, int64_t n, int64_t c, int64_t ignore_index, double eps, double *grad_logits)
    void cg_cross_entropy_prob_fwd_f32(const float *logits, const float *target, const float *weight, int64_t n, int64_t c, double eps, float *log_probs, float *loss)
    void cg_cross_entropy_prob_fwd_f64(const double *logits, const double *target, const double *weight, int64_t n, int64_t c, double eps, double *log_probs, double *loss)
    void cg_cross_entropy_prob_bwd_f32(const float *log_probs, const float *target, const float *weight, const float *row_grad, int64_t n, int64_t c, double eps, float *grad_logits)
    void cg_cross_entropy_prob_bwd_f64(const double *log_probs, const double *target, const double *weight, const double *row_grad, int64_t n, int64_t c, double eps, double *grad_logits)
    void cg_nll_fwd_f32(const float *x, const int64_t *target, const float *weight, int64_t n, int64_t c, int64_t ignore_index, float *loss, float *row_weight)
    void cg_nll_fwd_f64(const double *x, const int64_t *target, const double *weight, int64_t n, int64_t c, int64_t ignore_index, double *loss, double *row_weight)
    void cg_nll_bwd_f32(const int64_t *target, const float *weight, const float *row_grad, int64_t n, int64_t c, int64_t ignore_index, float *grad_x)
    void cg_nll_bwd_f64(const int64_t *target, const double *weight, const double *row_grad, int64_t n, int64_t c, int64_t ignore_index, double *grad_x)
    void cg_bce_fwd_f32(const float *x, const float *y, const float *w, int64_t n, float *loss)
    void cg_bce_fwd_f64(const double *x, const double *y, const double *w, int64_t n, double *loss)
    void cg_bce_bwd_f32(const float *x, const float *y, const float *w, const float *g, int64_t n, float *gx)
    void cg_bce_bwd_f64(const double *x, const double *y, const double *w, const double *g, int64_t n, double *gx)
    void cg_bce_logits_fwd_f32(const float *x, const float *y, const float *w, const float *pos_weight, int64_t n, float *loss)
    void cg_bce_logits_fwd_f64(const double *x, const double *y, const double *w, const double *pos_weight, int64_t n, double *loss)
    void cg_bce_logits_bwd_f32(const float *x, const float *y, const float *w, const float *pos_weight, const float *g, int64_t n, float *gx)
    void cg_bce_logits_bwd_f64(const double *x, const double *y, const double *w, const double *pos_weight, const double *g, int64_t n, double *gx)
    void cg_smooth_l1_fwd_f32(const float *x, const float *y, int64_t n, double beta, float *loss)
    void cg_smooth_l1_fwd_f64(const double *x, const double *y, int64_t n, double beta, double *loss)
    void cg_smooth_l1_bwd_f32(const float *x, const float *y, const float *g, int64_t n, double beta, float *gx)
    void cg_smooth_l1_bwd_f64(const double *x, const double *y, const double *g, int64_t n, double beta, double *gx)

from libc.stdint cimport uint8_t

cdef extern from "cygrad/compare.h" nogil:
    void cg_eq_fwd_f32(const cg_iter *it, uint8_t *out, const float *a, const float *b)
    void cg_eq_fwd_f64(const cg_iter *it, uint8_t *out, const double *a, const double *b)
    void cg_eq_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *a, const int64_t *b)
    void cg_eq_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_ne_fwd_f32(const cg_iter *it, uint8_t *out, const float *a, const float *b)
    void cg_ne_fwd_f64(const cg_iter *it, uint8_t *out, const double *a, const double *b)
    void cg_ne_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *a, const int64_t *b)
    void cg_ne_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_lt_fwd_f32(const cg_iter *it, uint8_t *out, const float *a, const float *b)
    void cg_lt_fwd_f64(const cg_iter *it, uint8_t *out, const double *a, const double *b)
    void cg_lt_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *a, const int64_t *b)
    void cg_lt_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_le_fwd_f32(const cg_iter *it, uint8_t *out, const float *a, const float *b)
    void cg_le_fwd_f64(const cg_iter *it, uint8_t *out, const double *a, const double *b)
    void cg_le_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *a, const int64_t *b)
    void cg_le_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_gt_fwd_f32(const cg_iter *it, uint8_t *out, const float *a, const float *b)
    void cg_gt_fwd_f64(const cg_iter *it, uint8_t *out, const double *a, const double *b)
    void cg_gt_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *a, const int64_t *b)
    void cg_gt_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_ge_fwd_f32(const cg_iter *it, uint8_t *out, const float *a, const float *b)
    void cg_ge_fwd_f64(const cg_iter *it, uint8_t *out, const double *a, const double *b)
    void cg_ge_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *a, const int64_t *b)
    void cg_ge_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_logical_and_fwd_f32(const cg_iter *it, uint8_t *out, const float *a, const float *b)
    void cg_logical_and_fwd_f64(const cg_iter *it, uint8_t *out, const double *a, const double *b)
    void cg_logical_and_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *a, const int64_t *b)
    void cg_logical_and_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_logical_or_fwd_f32(const cg_iter *it, uint8_t *out, const float *a, const float *b)
    void cg_logical_or_fwd_f64(const cg_iter *it, uint8_t *out, const double *a, const double *b)
    void cg_logical_or_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *a, const int64_t *b)
    void cg_logical_or_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_logical_xor_fwd_f32(const cg_iter *it, uint8_t *out, const float *a, const float *b)
    void cg_logical_xor_fwd_f64(const cg_iter *it, uint8_t *out, const double *a, const double *b)
    void cg_logical_xor_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *a, const int64_t *b)
    void cg_logical_xor_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_logical_not_fwd_f32(const cg_iter *it, uint8_t *out, const float *x)
    void cg_logical_not_fwd_f64(const cg_iter *it, uint8_t *out, const double *x)
    void cg_logical_not_fwd_i64(const cg_iter *it, uint8_t *out, const int64_t *x)
    void cg_logical_not_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *x)
    void cg_isnan_fwd_f32(const cg_iter *it, uint8_t *out, const float *x)
    void cg_isnan_fwd_f64(const cg_iter *it, uint8_t *out, const double *x)
    void cg_isinf_fwd_f32(const cg_iter *it, uint8_t *out, const float *x)
    void cg_isinf_fwd_f64(const cg_iter *it, uint8_t *out, const double *x)
    void cg_isfinite_fwd_f32(const cg_iter *it, uint8_t *out, const float *x)
    void cg_isfinite_fwd_f64(const cg_iter *it, uint8_t *out, const double *x)
    void cg_bitwise_and_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b)
    void cg_bitwise_and_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_bitwise_or_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b)
    void cg_bitwise_or_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_bitwise_xor_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b)
    void cg_bitwise_xor_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b)
    void cg_bitwise_not_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *x)
    void cg_any_u8(const uint8_t *x, uint8_t *out, int64_t outer, int64_t r, int64_t inner)
    void cg_all_u8(const uint8_t *x, uint8_t *out, int64_t outer, int64_t r, int64_t inner)

cdef extern from "cygrad/sort.h" nogil:
    void cg_sort_f32(const float *x, float *values, int64_t *indices, int64_t outer, int64_t r,
                     int64_t inner, int64_t k, int descending, float *scratch_values,
                     int64_t *scratch_indices)
    void cg_sort_f64(const double *x, double *values, int64_t *indices, int64_t outer, int64_t r,
                     int64_t inner, int64_t k, int descending, double *scratch_values,
                     int64_t *scratch_indices)
    void cg_sort_i64(const int64_t *x, int64_t *values, int64_t *indices, int64_t outer, int64_t r,
                     int64_t inner, int64_t k, int descending, int64_t *scratch_values,
                     int64_t *scratch_indices)
    void cg_select_bwd_f32(const float *gy, const int64_t *indices, float *gx, int64_t outer,
                           int64_t k, int64_t r, int64_t inner)
    void cg_select_bwd_f64(const double *gy, const int64_t *indices, double *gx, int64_t outer,
                           int64_t k, int64_t r, int64_t inner)
    void cg_unique_sorted_f32(const float *sorted, const int64_t *order, int64_t n, float *values,
                              int64_t *inverse, int64_t *counts, int64_t *n_unique)
    void cg_unique_sorted_f64(const double *sorted, const int64_t *order, int64_t n, double *values,
                              int64_t *inverse, int64_t *counts, int64_t *n_unique)
    void cg_unique_sorted_i64(const int64_t *sorted, const int64_t *order, int64_t n, int64_t *values,
                              int64_t *inverse, int64_t *counts, int64_t *n_unique)

cdef extern from "cygrad/optim.h" nogil:
    void cg_sgd_step_f32(float *param, const float *grad, float *momentum_buf, int64_t n, double lr,
                         double momentum, double dampening, double weight_decay, int nesterov,
                         int maximize, int first_step)
    void cg_sgd_step_f64(double *param, const double *grad, double *momentum_buf, int64_t n, double lr,
                         double momentum, double dampening, double weight_decay, int nesterov,
                         int maximize, int first_step)
    void cg_adam_step_f32(float *param, const float *grad, float *exp_avg, float *exp_avg_sq,
                          float *max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2,
                          double eps, double weight_decay, double step, int decoupled, int maximize)
    void cg_adam_step_f64(double *param, const double *grad, double *exp_avg, double *exp_avg_sq,
                          double *max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2,
                          double eps, double weight_decay, double step, int decoupled, int maximize)
    void cg_rmsprop_step_f32(float *param, const float *grad, float *square_avg, float *grad_avg,
                             float *momentum_buf, int64_t n, double lr, double alpha, double eps,
                             double weight_decay, double momentum, int maximize)
    void cg_rmsprop_step_f64(double *param, const double *grad, double *square_avg, double *grad_avg,
                             double *momentum_buf, int64_t n, double lr, double alpha, double eps,
                             double weight_decay, double momentum, int maximize)
    void cg_adagrad_step_f32(float *param, const float *grad, float *state_sum, int64_t n, double lr,
                             double lr_decay, double weight_decay, double eps, double step, int maximize)
    void cg_adagrad_step_f64(double *param, const double *grad, double *state_sum, int64_t n, double lr,
                             double lr_decay, double weight_decay, double eps, double step, int maximize)
    void cg_vector_norm_f32(const float *x, int64_t n, double p, double *out)
    void cg_vector_norm_f64(const double *x, int64_t n, double p, double *out)

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
                                   int64_t *copy, int64_t *position)
    void cg_index_linearize_i64(const int64_t *idx, int64_t n, int64_t size, int64_t stride, int accumulate,
                                int64_t *lin)

# ---- math ops (issue 3): elementwise kernels appended to elementwise.h, and reduce_math.h ----
cdef extern from "cygrad/elementwise.h" nogil:
    void cg_where_fwd_f32(const cg_iter *it, float *out, const float *c, const float *a, const float *b)
    void cg_where_fwd_f64(const cg_iter *it, double *out, const double *c, const double *a, const double *b)
    void cg_where_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *c, const int64_t *a, const int64_t *b)
    void cg_maximum_fwd_f32(const cg_iter *it, float *out, const float *a, const float *b)
    void cg_maximum_fwd_f64(const cg_iter *it, double *out, const double *a, const double *b)
    void cg_maximum_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b)
    void cg_minimum_fwd_f32(const cg_iter *it, float *out, const float *a, const float *b)
    void cg_minimum_fwd_f64(const cg_iter *it, double *out, const double *a, const double *b)
    void cg_minimum_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b)
    void cg_maximum_bwd_f32(const cg_iter *it, float *ga, const float *a, const float *b, const float *gy)
    void cg_maximum_bwd_f64(const cg_iter *it, double *ga, const double *a, const double *b, const double *gy)
    void cg_minimum_bwd_f32(const cg_iter *it, float *ga, const float *a, const float *b, const float *gy)
    void cg_minimum_bwd_f64(const cg_iter *it, double *ga, const double *a, const double *b, const double *gy)
    void cg_clamp_fwd_f32(const cg_iter *it, float *out, const float *x, const float *lo, const float *hi)
    void cg_clamp_fwd_f64(const cg_iter *it, double *out, const double *x, const double *lo, const double *hi)
    void cg_clamp_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *x, const int64_t *lo, const int64_t *hi)
    void cg_clamp_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *lo, const float *hi, const float *gy)
    void cg_clamp_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *lo, const double *hi, const double *gy)
    void cg_clamp_min_bwd_f32(const cg_iter *it, float *glo, const float *x, const float *lo, const float *hi, const float *gy)
    void cg_clamp_min_bwd_f64(const cg_iter *it, double *glo, const double *x, const double *lo, const double *hi, const double *gy)
    void cg_clamp_max_bwd_f32(const cg_iter *it, float *ghi, const float *x, const float *lo, const float *hi, const float *gy)
    void cg_clamp_max_bwd_f64(const cg_iter *it, double *ghi, const double *x, const double *lo, const double *hi, const double *gy)
    void cg_norm_inf_mask_f32(const cg_iter *it, float *out, const float *x, const float *norm)
    void cg_norm_inf_mask_f64(const cg_iter *it, double *out, const double *x, const double *norm)

    void cg_sign_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_sign_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_sign_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *x)
    void cg_floor_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_floor_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_ceil_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_ceil_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_round_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_round_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_identity_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *x)
    void cg_round_decimals_fwd_f32(const cg_iter *it, float *out, const float *x, double decimals)
    void cg_round_decimals_fwd_f64(const cg_iter *it, double *out, const double *x, double decimals)

    void cg_erf_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_erf_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_log1p_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_log1p_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_expm1_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_expm1_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_rsqrt_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_rsqrt_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_reciprocal_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_reciprocal_fwd_f64(const cg_iter *it, double *out, const double *x)

    void cg_gelu_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_gelu_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_gelu_tanh_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_gelu_tanh_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_silu_fwd_f32(const cg_iter *it, float *out, const float *x)
    void cg_silu_fwd_f64(const cg_iter *it, double *out, const double *x)
    void cg_leaky_relu_fwd_f32(const cg_iter *it, float *out, const float *x, double slope)
    void cg_leaky_relu_fwd_f64(const cg_iter *it, double *out, const double *x, double slope)
    void cg_elu_fwd_f32(const cg_iter *it, float *out, const float *x, double alpha)
    void cg_elu_fwd_f64(const cg_iter *it, double *out, const double *x, double alpha)
    void cg_softplus_fwd_f32(const cg_iter *it, float *out, const float *x, const float *beta, const float *threshold)
    void cg_softplus_fwd_f64(const cg_iter *it, double *out, const double *x, const double *beta, const double *threshold)
    void cg_gelu_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy)
    void cg_gelu_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy)
    void cg_gelu_tanh_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy)
    void cg_gelu_tanh_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy)
    void cg_silu_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy)
    void cg_silu_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy)
    void cg_leaky_relu_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy, double slope)
    void cg_leaky_relu_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy, double slope)
    void cg_elu_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy, double alpha)
    void cg_elu_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy, double alpha)
    void cg_softplus_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy, const float *beta, const float *threshold)
    void cg_softplus_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy, const double *beta, const double *threshold)

cdef extern from "cygrad/reduce_math.h" nogil:
    void cg_prod_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner)
    void cg_prod_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner)
    void cg_prod_i64(const int64_t *x, int64_t *out, int64_t outer, int64_t r, int64_t inner)
    void cg_prod_bwd_f32(const float *x, const float *gy, float *gx, int64_t outer, int64_t r, int64_t inner)
    void cg_prod_bwd_f64(const double *x, const double *gy, double *gx, int64_t outer, int64_t r, int64_t inner)
    void cg_count_zeros_f32(const float *x, int64_t n, int64_t *count)
    void cg_count_zeros_f64(const double *x, int64_t n, int64_t *count)
    void cg_var_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner, double correction)
    void cg_var_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner, double correction)
    void cg_logsumexp_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner)
    void cg_logsumexp_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner)
    void cg_norm_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner, double p)
    void cg_norm_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner, double p)
    void cg_cumsum_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner, int reverse)
    void cg_cumsum_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner, int reverse)
    void cg_cumsum_i64(const int64_t *x, int64_t *out, int64_t outer, int64_t r, int64_t inner, int reverse)

cdef extern from "cygrad/parallel.h" nogil:
    ctypedef void (*cg_range_fn)(void *ctx, int64_t begin, int64_t end) noexcept nogil
    enum:
        CG_GRAIN_CHEAP
        CG_GRAIN_TRANSCENDENTAL
    void cg_parallel_for(int64_t n, int64_t grain, cg_range_fn fn, void *ctx)
    int cg_get_num_threads()
    void cg_set_num_threads(int n)

cdef extern from "cygrad/elementwise_run.h" nogil:
    ctypedef struct cg_elementwise_call:
        const void *kernel
        int arity
        int has_param
        double param
        void *out
        const void *inputs[4]
        int itemsize[5]
    void cg_elementwise_run(const cg_elementwise_call *call, const cg_iter *it, int64_t grain)

cdef extern from "cygrad/heap.h" nogil:
    int cg_heap_keep_freed_top()
