/* Internal to csrc/: float32 exp, expm1, log, log1p, tanh, sigmoid and erf that gcc vectorizes.
 *
 * glibc's expf/logf/tanhf/erff are scalar calls, which keep the loops around them scalar. These are
 * forced-inline and branch-free: range reduction, a polynomial, and the exponent field read and
 * written through integer bit casts; every select is vm_select between values already computed,
 * which gcc emits as a vector blend. Inlined into the loops of each SIMD variant
 * (simd_variants.h), they vectorize for AVX-512, AVX2 and SSE2 alike, and since no FMA is written
 * (and -ffp-contract=off), every path rounds the same operations the same way: the results are
 * bitwise equal.
 *
 * Accuracy over all float32 inputs, against the float64 result (an exhaustive run; the tests
 * check samples): exp 1.02 ulp, log 0.83, tanh 1.33, sigmoid 2.4, expm1 1.72, log1p 1.44,
 * erf 1.31. log's and tanh's polynomials are Cephes' (S. Moshier), exp's and erf's are fitted
 * here. NaN propagates through every function (no max/min that could drop it); +-inf, +-0,
 * subnormal inputs and results, overflow to inf and underflow to 0 are as in C's functions.
 *
 * The vm_* macros at the end are type-generic: float goes here, double to libm, so each kernel
 * formula is still written once for both dtypes.
 */
#ifndef CYGRAD_VECMATH_H
#define CYGRAD_VECMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Forced inline: a call (gcc's own choice once a function has many call sites) would keep the
 * caller's loop scalar. */
#define VM_INLINE static inline __attribute__((always_inline))

VM_INLINE uint32_t vm_bits(float x)
{
    uint32_t i;
    memcpy(&i, &x, sizeof i);
    return i;
}

VM_INLINE float vm_from_bits(uint32_t i)
{
    float x;
    memcpy(&x, &i, sizeof x);
    return x;
}

/* c ? a : b, computed with bit masks. gcc would turn a plain `c ? a : b` back into a branch when
 * only one arm uses a computed value (it sinks the computation into that arm), and under C's
 * floating-point trap semantics it may not then run that arm's arithmetic for every lane: the loop
 * would stay scalar. Masks leave it nothing to sink; gcc emits one vector blend. */
VM_INLINE float vm_select(int c, float a, float b)
{
    const uint32_t mask = -(uint32_t)(c != 0);
    return vm_from_bits((vm_bits(a) & mask) | (vm_bits(b) & ~mask));
}

/* 2^n for a normal exponent, -126 <= n <= 127 */
VM_INLINE float vm_pow2(int32_t n) { return vm_from_bits((uint32_t)(n + 127) << 23); }

/* x * 2^n for -252 <= n <= 254: two exact scalings, so only the last one rounds (into the
 * subnormals, or to inf) */
VM_INLINE float vm_scale(float x, int32_t n)
{
    const int32_t half = n >> 1; /* floor(n / 2): gcc shifts signed ints arithmetically */
    return x * vm_pow2(half) * vm_pow2(n - half);
}

/* Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2 (a little more where x / ln2 rounds),
 * for |x| < 2^21: n * LN2_HI is exact (LN2_HI has 9 significant bits), so r is exact to ~2^-33. */
#define VM_LN2_HI 0.693359375f
#define VM_LN2_LO -2.12194440e-4f
#define VM_ROUNDER 0x1.8p23f /* adding it rounds a float of magnitude < 2^22 to an integer */

typedef struct {
    float r;   /* the reduced argument */
    int32_t n; /* the power of two */
} vm_reduced;

VM_INLINE vm_reduced vm_reduce_ln2(float x)
{
    const float shifted = x * 1.44269504088896341f + VM_ROUNDER;
    const float n = shifted - VM_ROUNDER;
    vm_reduced out;
    out.r = (x - n * VM_LN2_HI) - n * VM_LN2_LO;
    /* the integer sits in the low mantissa bits of `shifted` */
    out.n = (int32_t)(vm_bits(shifted) - vm_bits(VM_ROUNDER));
    return out;
}

/* exp(r) - 1 - r for |r| <= ~0.35: r^2 P(r). P has degree 4, fitted for the least maximum absolute
 * error on |r| <= 0.3486 (reweighted least squares): 4.6e-9 with these float coefficients, 0.04
 * ulp of 1, so the float rounding of the evaluation dominates. One degree less than Cephes' expf
 * for the same accuracy, which makes exp ~15% faster. */
VM_INLINE float vm_expm1_tail(float r)
{
    float p = 0x1.6db8f0p-10f;
    p = p * r + 0x1.123ec6p-7f;
    p = p * r + 0x1.555458p-5f;
    p = p * r + 0x1.55548ap-3f;
    p = p * r + 0.5f;
    return p * (r * r);
}

/* e^x for -104 <= x <= 89 or NaN (callers clamp; a bound the argument cannot pass is not
 * tested, which saves a compare and a blend) */
VM_INLINE float vm_exp_in_range(float x)
{
    const vm_reduced red = vm_reduce_ln2(x);
    return vm_scale(vm_expm1_tail(red.r) + red.r + 1, red.n);
}

/* e^x */
VM_INLINE float vm_expf(float x)
{
    /* beyond these bounds the result is inf or 0 anyway; the clamp keeps n within vm_scale's
     * range (NaN fails both comparisons and passes) */
    x = vm_select(x > 89.0f, 89.0f, x);
    x = vm_select(x < -104.0f, -104.0f, x);
    return vm_exp_in_range(x);
}

/* e^x - 1, accurate near 0 */
VM_INLINE float vm_expm1f(float x)
{
    /* below -30 the result rounds to -1; above 89 it is inf */
    float xc = vm_select(x > 89.0f, 89.0f, x);
    xc = vm_select(xc < -30.0f, -30.0f, xc);
    const vm_reduced red = vm_reduce_ln2(xc);
    const float em = vm_expm1_tail(red.r) + red.r; /* e^r - 1 */
    /* e^x - 1 = 2^n (em + 1 - 2^-n); 1 - 2^-n is exact for -24 <= n <= 24 and rounds to 1 above */
    const float y = vm_scale(em + (1 - vm_scale(1, -red.n)), red.n);
    return vm_select(x == 0, x, y); /* the reduction turns -0 into +0 */
}

/* natural logarithm */
VM_INLINE float vm_logf(float x)
{
    /* x = m 2^e, m in [sqrt(1/2), sqrt(2)); subnormals are scaled into the normal range first */
    const int subnormal = x < 0x1p-126f;
    const uint32_t bits = vm_bits(vm_select(subnormal, x * 0x1p23f, x));
    int32_t e = (int32_t)((bits >> 23) & 0xff) - 126 - 23 * subnormal;
    const float m = vm_from_bits((bits & 0x007fffff) | 0x3f000000); /* in [0.5, 1) */
    const int below = m < 0.707106781186547524f;
    e -= below;
    const float f = vm_select(below, m + m, m) - 1; /* exact */
    const float z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    const float fe = (float)e;
    float y = p * f * z;
    y = y + fe * VM_LN2_LO;
    y = y + -0.5f * z;
    y = (f + y) + fe * VM_LN2_HI;
    y = vm_select(x == INFINITY, x, y);
    y = vm_select(x == 0, -INFINITY, y);
    y = vm_select(x < 0, NAN, y);
    return vm_select(x != x, x, y);
}

/* log(1 + x), accurate near 0: u = 1 + x rounds, and (x - (u - 1)) / u adds back what that
 * rounding lost (x - (u - 1) is exact for |x| < 1; beyond, the term is negligible) */
VM_INLINE float vm_log1pf(float x)
{
    const float u = 1 + x;
    const float d = u - 1;
    const float log_u = vm_logf(u);
    const float y = log_u + (x - d) / u;
    /* d == 0: log1p(x) = x for tiny x, and -0 stays -0; u = inf or 0 (x = -1): log(u) is the
     * answer, and the correction would be inf - inf or 0 / 0 */
    return vm_select(d == 0, x, vm_select((u == INFINITY) | (u == 0), log_u, y));
}

/* hyperbolic tangent, computed for |x| and given x's sign (tanh is odd; so -0 stays -0) */
VM_INLINE float vm_tanhf(float x)
{
    const float a = fabsf(x);
    /* |x| < 0.625: |x| + |x|^3 P(x^2) (Cephes tanhf) */
    const float z = a * a;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float near_zero = p * z * a + a;
    /* else 1 - 2 / (e^2|x| + 1); e^2|x| = inf gives 1 */
    const float two_a = a + a; /* >= 0 or NaN: only the upper clamp can act */
    const float far = 1 - 2 / (vm_exp_in_range(vm_select(two_a > 89.0f, 89.0f, two_a)) + 1);
    const float magnitude = vm_select(a < 0.625f, near_zero, far);
    return vm_from_bits(vm_bits(magnitude) | (vm_bits(x) & 0x80000000u));
}

/* The error function, computed for |x| and given x's sign (erf is odd; so -0 stays -0).
 *
 * |x| < 1: x + x P(x^2). Adding x last keeps the leading term exact: the rounding errors of P's
 * evaluation count in proportion to x P, 11% to 19% of erf (P = 2/sqrt(pi) - 1 at 0), and a
 * subnormal x needs no case of its own. P has degree 6, fitted for the least maximum relative
 * error of erf on [0, 1] (reweighted least squares, each coefficient rounded to float in turn
 * from the lowest and the higher ones refitted): 1.4e-9. The largest error of vm_erff, 1.31 ulp,
 * is just below |x| = 1, where x P is largest.
 *
 * 1 <= |x| < 4: 1 - e^-x^2 Q(|x| - 2.5), Q fitted to e^x^2 erfc(x) (smooth, 0.43 down to 0.14)
 * with weight e^-x^2, so for the least maximum absolute error of erf itself: 0.04 of 2^-24, the
 * float spacing in [1/2, 1).
 * Centering at 2.5 keeps the Horner terms small, and |x| - 2.5 is exact there (both are multiples
 * of 2^-23 and the difference is below 2 in magnitude). x^2 rounds before exp, a relative error of
 * at most 2^-24 x^2 in erfc; x^2 erfc(x) peaks at 0.16 (x = 1), so that is 0.16 ulp of erf at most
 * and x needs no split into high and low parts.
 *
 * |x| >= 4 (and inf): |x| is clamped to 4, where erfc = 1.5e-8 is below half an ulp under 1
 * (2^-25), so 1 - erfc rounds to exactly 1; the clamp also keeps exp's argument in range. */
VM_INLINE float vm_erff(float x)
{
    const float a = fabsf(x);
    const float z = a * a;
    float p = 0x1.4771fcp-14f;
    p = p * z - 0x1.a3515ep-11f;
    p = p * z + 0x1.53f224p-8f;
    p = p * z - 0x1.b7f71ap-6f;
    p = p * z + 0x1.ce2ce6p-4f;
    p = p * z - 0x1.81273ep-2f;
    p = p * z + 0x1.06eba8p-3f;
    const float near_zero = a + a * p;
    const float clamped = vm_select(a > 4.0f, 4.0f, a); /* NaN fails the comparison and passes */
    const float t = clamped - 2.5f;
    float q = 0x1.c02704p-14f;
    q = q * t + 0x1.d80a8ep-13f;
    q = q * t + 0x1.1ce100p-11f;
    q = q * t - 0x1.5a9ad0p-11f;
    q = q * t + 0x1.2dcaa0p-9f;
    q = q * t - 0x1.0a7a7ap-7f;
    q = q * t + 0x1.98337ep-6f;
    q = q * t - 0x1.30816ep-4f;
    q = q * t + 0x1.afbbe6p-3f;
    const float far = 1 - vm_exp_in_range(-(clamped * clamped)) * q;
    const float magnitude = vm_select(a < 1.0f, near_zero, far);
    const float y = vm_from_bits(vm_bits(magnitude) | (vm_bits(x) & 0x80000000u));
    /* A NaN x is returned as it is. Through the formulas, NaNs of both signs meet (exp's argument
     * is negated), and which one an instruction passes on depends on the operand order gcc picked
     * for each SIMD path: the bits would differ between paths. */
    return vm_select(x != x, x, y);
}

/* e^x for -104 <= x <= 0 or NaN: vm_exp_in_range's bits in fewer operations. With n <= 0, the
 * scaling by 2^n goes through 2^(n + 64), normal for n >= -150 and exact, then 2^-64, which
 * rounds once, as vm_scale's second step does. */
VM_INLINE float vm_exp_nonpositive(float x)
{
    const vm_reduced red = vm_reduce_ln2(x);
    return (vm_expm1_tail(red.r) + red.r + 1) * vm_pow2(red.n + 64) * 0x1p-64f;
}

/* 1 / (1 + e^-x), computed as torch does: e^-x for x >= 0, e^x / (1 + e^x) below, so no
 * exponential overflows */
VM_INLINE float vm_sigmoidf(float x)
{
    const float minus_abs = -fabsf(x); /* <= 0 or NaN: only the lower clamp can act */
    const float e = vm_exp_nonpositive(vm_select(minus_abs < -104.0f, -104.0f, minus_abs));
    return vm_select(x >= 0, 1, e) / (1 + e);
}

/* The same formula as vm_sigmoidf, in double with libm's exp (torch's formula for doubles) */
VM_INLINE double vm_sigmoid_f64(double x)
{
    return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

/* Type-generic names for kernel formulas written once for float and double: a float argument
 * computes here, a double one calls libm (`exp` not followed by a parenthesis is the double
 * function, even where <tgmath.h> is included). */
#define vm_exp(x) _Generic((x), float: vm_expf, double: exp)(x)
#define vm_expm1(x) _Generic((x), float: vm_expm1f, double: expm1)(x)
#define vm_log(x) _Generic((x), float: vm_logf, double: log)(x)
#define vm_log1p(x) _Generic((x), float: vm_log1pf, double: log1p)(x)
#define vm_tanh(x) _Generic((x), float: vm_tanhf, double: tanh)(x)
#define vm_sigmoid(x) _Generic((x), float: vm_sigmoidf, double: vm_sigmoid_f64)(x)
#define vm_erf(x) _Generic((x), float: vm_erff, double: erf)(x)

#endif
