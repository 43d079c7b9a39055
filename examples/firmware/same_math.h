/* same_math.h - expf, sinf and cosf from + - * / only, so that a program built for the host
   (glibc) and for the board (newlib) computes bit-identical floats. Used by main.c when
   built with -DFW_SAME_MATH (make test-firmware FW_SAME_MATH=1); include it after
   <math.h> and before artr.h's implementation, whose expf/sinf/cosf calls the macros at
   the end turn into these. artr.h itself is unchanged.

   Why: libm's transcendentals are not correctly rounded, and newlib's single-precision
   code (Cortex-M4) differs from glibc's by 1 ulp on about 10% of inputs (shared firmware
   notes). Greedy ids only change on a near tie, but logits differ in their last bits.
   Accuracy: at most 1 ulp from the correctly rounded result (measured against double
   libm: expf on [-100, 10], sinf/cosf on [-300, 300] away from their zeros), on the
   ranges artr uses (softmax and SiLU arguments, rope angles pos * theta^(-2i/d)); not a
   general-purpose libm (sinf/cosf give 0/1 beyond |x| = 1e4).
   Requires -ffp-contract=off (no fused multiply-add) on both builds. */
#ifndef FW_SAME_MATH_H
#define FW_SAME_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* 2^n as a float, for -126 <= n <= 127. */
static float fw_pow2i(int n)
{
    uint32_t u = (uint32_t)(n + 127) << 23;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Round to nearest integer, ties away from zero, for |x| < 2^30. */
static int fw_round(float x)
{
    return x >= 0.0f ? (int)(x + 0.5f) : -(int)(0.5f - x);
}

/* e^x = 2^k * e^r, k = round(x / ln 2), r = x - k ln 2 (Cody-Waite, two parts), |r| <= 0.35;
   e^r by its Taylor series to r^7 (error < 2e-9 relative). */
static float fw_expf(float x)
{
    float r, p;
    int k;
    if (x != x) return x;
    if (x > 88.72f) return INFINITY;
    if (x < -103.0f) return 0.0f;
    k = fw_round(x * 1.44269504f);
    r = (x - (float)k * 0.693145752f) - (float)k * 1.42860677e-06f;
    p = 1.0f + r * (1.0f + r * (0.5f + r * (1.66666667e-1f + r * (4.16666667e-2f +
        r * (8.33333333e-3f + r * (1.38888889e-3f + r * 1.98412698e-4f))))));
    if (k < -126) return p * fw_pow2i(k + 64) * fw_pow2i(-64); /* subnormal results */
    if (k > 127) return p * fw_pow2i(k - 1) * 2.0f;
    return p * fw_pow2i(k);
}

/* sin and cos of r for |r| <= pi/4: Taylor series to r^11 and r^12. */
static float fw_sin_poly(float r)
{
    float r2 = r * r;
    return r + r * r2 * (-1.66666667e-1f + r2 * (8.33333333e-3f + r2 * (-1.98412698e-4f +
           r2 * (2.75573192e-6f + r2 * -2.50521084e-8f))));
}

static float fw_cos_poly(float r)
{
    float r2 = r * r;
    return 1.0f + r2 * (-0.5f + r2 * (4.16666667e-2f + r2 * (-1.38888889e-3f +
           r2 * (2.48015873e-5f + r2 * (-2.75573192e-7f + r2 * 2.08767570e-9f)))));
}

/* x = q * pi/2 + r with pi/2 in three parts (exact products for |q| < 2^12). Returns q mod 4. */
static int fw_reduce(float x, float *r)
{
    int q = fw_round(x * 0.636619772f);
    *r = ((x - (float)q * 1.5703125f) - (float)q * 4.83751297e-04f) - (float)q * 7.54979013e-08f;
    return q & 3;
}

static float fw_sinf(float x)
{
    float r;
    if (!(x > -1e4f && x < 1e4f)) return x != x ? x : 0.0f; /* outside artr's use */
    switch (fw_reduce(x, &r)) {
    case 0: return fw_sin_poly(r);
    case 1: return fw_cos_poly(r);
    case 2: return -fw_sin_poly(r);
    default: return -fw_cos_poly(r);
    }
}

static float fw_cosf(float x)
{
    float r;
    if (!(x > -1e4f && x < 1e4f)) return x != x ? x : 1.0f;
    switch (fw_reduce(x, &r)) {
    case 0: return fw_cos_poly(r);
    case 1: return -fw_sin_poly(r);
    case 2: return -fw_cos_poly(r);
    default: return fw_sin_poly(r);
    }
}

#define expf fw_expf
#define sinf fw_sinf
#define cosf fw_cosf

#endif
