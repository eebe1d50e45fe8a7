"""C source of the fused CPU kernels in `kernels.py` (kept apart so that module stays short).

Every kernel works row by row on contiguous float32 buffers and is written so that GCC
vectorises its inner loops (AVX-512 or AVX2 where the build flags allow). ``exp`` is a
Cephes-style polynomial, accurate to about one ulp on the clamped ranges used here. Parameters
may be shared by groups of rows: row r uses the parameter row ``(r / rows_per_group)``, which
covers one LayerNorm (rows_per_group = rows) and stacked ensemble heads (rows_per_group = rows
of one head).
"""

SOURCE = r"""
#include <math.h>
#include <stdint.h>

/* Denormal inputs and results run ~100x slower on x86; gradients through zero-initialised
   heads are full of them (3x slower backward measured). Each kernel flushes them to zero
   (FTZ + DAZ) for its own duration only and restores the caller's mode. */
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define FLUSH_DENORMALS unsigned int saved_csr = _mm_getcsr(); _mm_setcsr(saved_csr | 0x8040u);
#define RESTORE_DENORMALS _mm_setcsr(saved_csr);
#else
#define FLUSH_DENORMALS
#define RESTORE_DENORMALS
#endif

/* exp(x) for x in [-87, 88]: 2^k * p(r), r = x - k ln 2 in [-ln2/2, ln2/2]. */
static inline float exp_poly(float x) {
    float k = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
    float r = x - k * 0.693359375f;
    r = r - k * (-2.12194440e-4f);
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r * r + r + 1.0f;
    union { float f; int32_t i; } u;
    u.i = ((int32_t)k + 127) << 23;
    return p * u.f;
}

/* Mish with one exp: tanh(softplus(h)) = q / (q + 2), q = e (e + 2), e = exp(h); for h > 20
   the ratio is 1 in float32, so the clamp changes nothing. */
/* h clamped to [-87, 20], written as two selects that compile to min and max */
static inline float clamp_exp_arg(float h) {
    float c = h < 20.f ? h : 20.f;
    return c > -87.f ? c : -87.f;
}

static inline float mish1(float h) {
    float e = exp_poly(clamp_exp_arg(h));
    float q = e * (e + 2.f);
    return h * q / (q + 2.f);
}

/* d mish / dh = t + h * sigmoid(h) * (1 - t^2) with t = tanh(softplus(h)) = q / D,
   D = q + 2, sigmoid(h) = e / (1 + e) and 1 - t^2 = 4 (1 + e)^2 / D^2, over one division:
   (q D + 4 h e (1 + e)) / D^2. The clamped h in the second term keeps it finite for huge h
   (where it is 0 in float32 anyway). */
static inline float mish_grad1(float h) {
    float hc = clamp_exp_arg(h);
    float e = exp_poly(hc);
    float q = e * (e + 2.f);
    float d = q + 2.f;
    return (q * d + 4.f * hc * e * (1.f + e)) / (d * d);
}

/* Adds the linear layer's bias `lb` (when given) to row xr in place, then returns the row's
   LayerNorm mean and 1 / std. */
static inline void row_stats(float* restrict xr, const float* restrict lb, int64_t cols,
                             float eps, float* mean, float* rstd) {
    float s = 0.f;
    if (lb) {
        #pragma omp simd reduction(+:s)
        for (int64_t c = 0; c < cols; ++c) { xr[c] += lb[c]; s += xr[c]; }
    } else {
        #pragma omp simd reduction(+:s)
        for (int64_t c = 0; c < cols; ++c) s += xr[c];
    }
    float m = s / (float)cols;
    float v = 0.f;
    #pragma omp simd reduction(+:v)
    for (int64_t c = 0; c < cols; ++c) { float d = xr[c] - m; v += d * d; }
    *mean = m;
    *rstd = 1.0f / sqrtf(v / (float)cols + eps);
}

/* x <- mish(layer_norm(x + lb) * w + b), in place; lb may be NULL. */
void ln_mish_fwd(float* restrict x, const float* restrict lb, const float* restrict w,
                 const float* restrict b, int64_t rows, int64_t cols, int64_t rows_per_group,
                 float eps) {
    FLUSH_DENORMALS
    for (int64_t r = 0; r < rows; ++r) {
        float* xr = x + r * cols;
        const int64_t off = (r / rows_per_group) * cols;
        const float* wr = w + off;
        const float* br = b + off;
        float mean, rstd;
        row_stats(xr, lb ? lb + off : 0, cols, eps, &mean, &rstd);
        #pragma omp simd
        for (int64_t c = 0; c < cols; ++c) xr[c] = mish1((xr[c] - mean) * rstd * wr[c] + br[c]);
    }
    RESTORE_DENORMALS
}

/* Softmax of one group of n values h into y, shifted by the group's own max. */
static inline void group_softmax(const float* restrict h, float* restrict y, int64_t n) {
    float m = h[0];
    for (int64_t c = 1; c < n; ++c) m = h[c] > m ? h[c] : m;
    float s = 0.f;
    for (int64_t c = 0; c < n; ++c) {
        float d = h[c] - m;
        y[c] = exp_poly(d > -87.f ? d : -87.f);
        s += y[c];
    }
    const float inv = 1.0f / s;
    for (int64_t c = 0; c < n; ++c) y[c] *= inv;
}

#define SIMNORM_MAX_COLS 8192

/* x <- simnorm(layer_norm(x + lb) * w + b), in place: softmax within consecutive groups of
   `group` columns; lb may be NULL. The exponentials are taken once over the whole row,
   shifted by the row's max (softmax is shift-invariant), which vectorises; a group whose
   values all lie far below the row max (sum < 1e-20) is redone with its own max. */
void ln_simnorm_fwd(float* restrict x, const float* restrict lb, const float* restrict w,
                    const float* restrict b, int64_t rows, int64_t cols, int64_t group,
                    float eps) {
    FLUSH_DENORMALS
    float h[SIMNORM_MAX_COLS];
    for (int64_t r = 0; r < rows; ++r) {
        float* xr = x + r * cols;
        float mean, rstd;
        row_stats(xr, lb, cols, eps, &mean, &rstd);
        if (cols > SIMNORM_MAX_COLS) {
            for (int64_t c = 0; c < cols; ++c) xr[c] = (xr[c] - mean) * rstd * w[c] + b[c];
            for (int64_t g = 0; g < cols; g += group) group_softmax(xr + g, xr + g, group);
            continue;
        }
        float m = -3.402823466e38f;
        #pragma omp simd reduction(max:m)
        for (int64_t c = 0; c < cols; ++c) {
            h[c] = (xr[c] - mean) * rstd * w[c] + b[c];
            m = h[c] > m ? h[c] : m;
        }
        #pragma omp simd
        for (int64_t c = 0; c < cols; ++c) {
            float d = h[c] - m;
            xr[c] = exp_poly(d > -87.f ? d : -87.f);
        }
        for (int64_t g = 0; g < cols; g += group) {
            float s = 0.f;
            for (int64_t c = g; c < g + group; ++c) s += xr[c];
            if (s < 1e-20f) {
                group_softmax(h + g, xr + g, group);
                continue;
            }
            const float inv = 1.0f / s;
            for (int64_t c = g; c < g + group; ++c) xr[c] *= inv;
        }
    }
    RESTORE_DENORMALS
}

/* Training forward of Linear bias -> (dropout scale) -> LayerNorm -> affine -> Mish for one
   row: h0 = (x + lb) * s, y = mish(layer_norm(h0) * w + b); returns mean and 1/std. The
   constant `has_s` lets the compiler emit one specialised loop per case. */
static inline __attribute__((always_inline)) void train_fwd_row(
        const float* restrict xr, const float* restrict lbr, const float* restrict sr,
        const float* restrict wr, const float* restrict br, float* restrict yr, int64_t cols,
        float eps, const int has_s, float* mean_out, float* rstd_out) {
    float sum = 0.f;
    #pragma omp simd reduction(+:sum)
    for (int64_t c = 0; c < cols; ++c) {
        yr[c] = has_s ? (xr[c] + lbr[c]) * sr[c] : xr[c] + lbr[c];
        sum += yr[c];
    }
    const float m = sum / (float)cols;
    float v = 0.f;
    #pragma omp simd reduction(+:v)
    for (int64_t c = 0; c < cols; ++c) { float d = yr[c] - m; v += d * d; }
    const float rstd = 1.0f / sqrtf(v / (float)cols + eps);
    #pragma omp simd
    for (int64_t c = 0; c < cols; ++c) yr[c] = mish1((yr[c] - m) * rstd * wr[c] + br[c]);
    *mean_out = m;
    *rstd_out = rstd;
}

/* Training forward over rows (see train_fwd_row); s (a per-element scale such as a dropout
   mask) may be NULL. Writes y and each row's mean and 1/std for the backward pass. */
void ln_mish_train_fwd(const float* restrict x, const float* restrict lb,
                       const float* restrict s, const float* restrict w,
                       const float* restrict b, float* restrict y, float* restrict mean_out,
                       float* restrict rstd_out, int64_t rows, int64_t cols,
                       int64_t rows_per_group, float eps) {
    FLUSH_DENORMALS
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t off = (r / rows_per_group) * cols;
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        if (s)
            train_fwd_row(xr, lb + off, s + r * cols, w + off, b + off, yr, cols, eps, 1,
                          mean_out + r, rstd_out + r);
        else
            train_fwd_row(xr, lb + off, 0, w + off, b + off, yr, cols, eps, 0, mean_out + r,
                          rstd_out + r);
    }
    RESTORE_DENORMALS
}

/* Backward of one row in three simple passes (few live registers, so no spills): gh =
   gy * mish'(h) into gx; parameter gradients and the LayerNorm row sums; then gx. */
static inline __attribute__((always_inline)) void train_bwd_row(
        const float* restrict xr, const float* restrict lbr, const float* restrict sr,
        const float* restrict wr, const float* restrict br, float m, float rs,
        const float* restrict gyr, float* restrict gxr, float* restrict glbr,
        float* restrict gwr, float* restrict gbr, int64_t cols, const int has_s) {
    #pragma omp simd
    for (int64_t c = 0; c < cols; ++c) {
        float h0 = has_s ? (xr[c] + lbr[c]) * sr[c] : xr[c] + lbr[c];
        gxr[c] = gyr[c] * mish_grad1((h0 - m) * rs * wr[c] + br[c]);
    }
    float sum_g = 0.f, sum_gn = 0.f;
    #pragma omp simd reduction(+:sum_g, sum_gn)
    for (int64_t c = 0; c < cols; ++c) {
        float h0 = has_s ? (xr[c] + lbr[c]) * sr[c] : xr[c] + lbr[c];
        float n = (h0 - m) * rs;
        float gh = gxr[c];
        gwr[c] += gh * n;
        gbr[c] += gh;
        float gn = gh * wr[c];
        gxr[c] = gn;
        sum_g += gn;
        sum_gn += gn * n;
    }
    const float mg = sum_g / (float)cols, mgn = sum_gn / (float)cols;
    #pragma omp simd
    for (int64_t c = 0; c < cols; ++c) {
        float h0 = has_s ? (xr[c] + lbr[c]) * sr[c] : xr[c] + lbr[c];
        float g0 = rs * (gxr[c] - mg - (h0 - m) * rs * mgn);
        if (has_s) g0 *= sr[c];
        glbr[c] += g0;
        gxr[c] = g0;
    }
}

/* Backward of ln_mish_train_fwd: gx, and glb, gw, gb (groups x cols) accumulated, so they
   must start at zero. */
void ln_mish_train_bwd(const float* restrict x, const float* restrict lb,
                       const float* restrict s, const float* restrict w,
                       const float* restrict b, const float* restrict mean,
                       const float* restrict rstd, const float* restrict gy,
                       float* restrict gx, float* restrict glb, float* restrict gw,
                       float* restrict gb, int64_t rows, int64_t cols,
                       int64_t rows_per_group) {
    FLUSH_DENORMALS
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t off = (r / rows_per_group) * cols, at = r * cols;
        if (s)
            train_bwd_row(x + at, lb + off, s + at, w + off, b + off, mean[r], rstd[r],
                          gy + at, gx + at, glb + off, gw + off, gb + off, cols, 1);
        else
            train_bwd_row(x + at, lb + off, 0, w + off, b + off, mean[r], rstd[r], gy + at,
                          gx + at, glb + off, gw + off, gb + off, cols, 0);
    }
    RESTORE_DENORMALS
}

/* Symmetric int8 quantisation of each row: q = round(x / s), s = max|x_row| / 127 (1 for an
   all-zero row), rounding half away from zero. */
void quantize_rows_s8(const float* restrict x, int8_t* restrict q, float* restrict scale,
                      int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        int8_t* qr = q + r * cols;
        float m = 0.f;
        #pragma omp simd reduction(max:m)
        for (int64_t c = 0; c < cols; ++c) { float a = fabsf(xr[c]); m = a > m ? a : m; }
        const float s = m > 0.f ? m / 127.f : 1.f;
        const float inv = 1.f / s;
        #pragma omp simd
        for (int64_t c = 0; c < cols; ++c) {
            float v = xr[c] * inv;
            qr[c] = (int8_t)(int32_t)(v + (v >= 0.f ? 0.5f : -0.5f));
        }
        scale[r] = s;
    }
}

/* out[r, c] = acc[r, c] * row_scale[r] * col_scale[c]: an int32 product of two symmetric
   int8 operands back in float32. */
void dequantize_rows(const int32_t* restrict acc, const float* restrict row_scale,
                     const float* restrict col_scale, float* restrict out, int64_t rows,
                     int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const int32_t* ar = acc + r * cols;
        float* outr = out + r * cols;
        const float s = row_scale[r];
        #pragma omp simd
        for (int64_t c = 0; c < cols; ++c) outr[c] = (float)ar[c] * s * col_scale[c];
    }
}

#define DQ_MAX_COLS 8192

/* One int8 hidden layer's tail: the int32 product acc (rows x cols) of two symmetric int8
   operands is scaled back (row_scale x col_scale), gets the linear bias lb, LayerNorm with
   affine w, b, and Mish, and is quantised again per row for the next layer's int8 matmul
   (q, q_scale as quantize_rows_s8). Returns -1 when cols exceeds DQ_MAX_COLS, else 0. */
int dq_ln_mish_q(const int32_t* restrict acc, const float* restrict row_scale,
                 const float* restrict col_scale, const float* restrict lb,
                 const float* restrict w, const float* restrict b, int8_t* restrict q,
                 float* restrict q_scale, int64_t rows, int64_t cols, float eps) {
    if (cols > DQ_MAX_COLS) return -1;
    FLUSH_DENORMALS
    float h[DQ_MAX_COLS];
    for (int64_t r = 0; r < rows; ++r) {
        const int32_t* ar = acc + r * cols;
        const float s = row_scale[r];
        #pragma omp simd
        for (int64_t c = 0; c < cols; ++c) h[c] = (float)ar[c] * s * col_scale[c];
        float mean, rstd;
        row_stats(h, lb, cols, eps, &mean, &rstd);
        float m = 0.f;
        #pragma omp simd reduction(max:m)
        for (int64_t c = 0; c < cols; ++c) {
            h[c] = mish1((h[c] - mean) * rstd * w[c] + b[c]);
            float a = fabsf(h[c]);
            m = a > m ? a : m;
        }
        const float qs = m > 0.f ? m / 127.f : 1.f;
        const float inv = 1.f / qs;
        int8_t* qr = q + r * cols;
        #pragma omp simd
        for (int64_t c = 0; c < cols; ++c) {
            float v = h[c] * inv;
            qr[c] = (int8_t)(int32_t)(v + (v >= 0.f ? 0.5f : -0.5f));
        }
        q_scale[r] = qs;
    }
    RESTORE_DENORMALS
    return 0;
}

/* Symmetric int8 quantisation of each column of x (rows x cols, row-major): scale[c] =
   max_r |x[r, c]| / 127 (1 for an all-zero column), two passes along the rows. */
void quantize_cols_s8(const float* restrict x, int8_t* restrict q, float* restrict scale,
                      int64_t rows, int64_t cols) {
    for (int64_t c = 0; c < cols; ++c) scale[c] = 0.f;
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        #pragma omp simd
        for (int64_t c = 0; c < cols; ++c) {
            float a = fabsf(xr[c]);
            scale[c] = a > scale[c] ? a : scale[c];
        }
    }
    for (int64_t c = 0; c < cols; ++c) scale[c] = scale[c] > 0.f ? scale[c] / 127.f : 1.f;
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        int8_t* qr = q + r * cols;
        #pragma omp simd
        for (int64_t c = 0; c < cols; ++c) {
            float v = xr[c] / scale[c];
            qr[c] = (int8_t)(int32_t)(v + (v >= 0.f ? 0.5f : -0.5f));
        }
    }
}
"""
