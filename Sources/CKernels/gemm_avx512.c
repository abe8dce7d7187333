/*
 * Single-precision GEMM with an AVX-512 micro-kernel (Goto/BLIS blocking).
 *
 *   for jc over n in NC columns            B block kc×nc packed once, read from L3/L2
 *     for pc over k in KC                  (KC = 192 divides Cin·9 for Cin a multiple of 64)
 *       pack op(B)[pc.., jc..] into NR-wide strips   (zero-padded past n)
 *       for ic over m in MC rows           A block mc×kc packed, kept in L2
 *         pack op(A)[ic.., pc..] into MR-tall strips (zero-padded past m)
 *         for jr over nc in NR, ir over mc in MR:
 *           micro-kernel: an MR×NR tile of C in 24 zmm accumulators over kc,
 *           the B strip (KC×NR = 36 KB) staying in L1 while A strips stream from L2.
 *
 * MR×NR = 8×48: 3 vector loads of B and 8 broadcasts of A feed 24 FMAs per k, and every
 * convolution row count here (Cout, Cin·9 = 64·2^i·…) is a multiple of 8.
 * Each C element accumulates over k in the fixed order k = 0, 1, …, so the result does not
 * depend on how the caller splits m or n across threads.
 */
#include "CKernels.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

#include "gemm_internal.h"

int ck_have_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27))) return 0;                 /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6u) != 0xE6u) return 0;             /* XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 16)) ? 1 : 0;                 /* AVX512F */
}

/* Per-thread packing buffers (2.5 MB), allocated on a thread's first call and freed when the
 * thread exits (a pthread key destructor), so short-lived host threads do not leak them. */
typedef struct { float *a, *b; } pack_buffers;
static pthread_key_t pack_key;
static pthread_once_t pack_once = PTHREAD_ONCE_INIT;
static int pack_key_ok;

static void free_buffers(void *p) {
    pack_buffers *pb = p;
    free(pb->a);
    free(pb->b);
    free(pb);
}
static void make_key(void) { pack_key_ok = pthread_key_create(&pack_key, free_buffers) == 0; }

static pack_buffers *buffers(void) {
    pthread_once(&pack_once, make_key);
    if (!pack_key_ok) return NULL;
    pack_buffers *pb = pthread_getspecific(pack_key);
    if (pb) return pb;
    pb = calloc(1, sizeof *pb);
    if (!pb) return NULL;
    pb->a = aligned_alloc(64, sizeof(float) * MC * KC);
    pb->b = aligned_alloc(64, sizeof(float) * KC * NC);
    if (!pb->a || !pb->b || pthread_setspecific(pack_key, pb) != 0) { free_buffers(pb); return NULL; }
    return pb;
}

/* Ap[s][p·MR + r] = op(A)[i0 + s·MR + r][p0 + p], zero for rows ≥ m. */
static void pack_a(int transA, const float *A, long lda, long i0, long mc, long p0, long kc, float *Ap) {
    for (long is = 0; is < mc; is += MR) {
        long mr = mc - is < MR ? mc - is : MR;
        float *dst = Ap + is * kc;
        if (!transA) {
            for (long r = 0; r < mr; r++) {
                const float *src = A + (i0 + is + r) * lda + p0;
                for (long p = 0; p < kc; p++) dst[p * MR + r] = src[p];
            }
        } else {
            for (long p = 0; p < kc; p++) {
                const float *src = A + (p0 + p) * lda + i0 + is;
                for (long r = 0; r < mr; r++) dst[p * MR + r] = src[r];
            }
        }
        if (mr < MR)
            for (long p = 0; p < kc; p++)
                for (long r = mr; r < MR; r++) dst[p * MR + r] = 0;
    }
}

/* Bp[s][p·NR + j] = op(B)[p0 + p][j0 + s·NR + j], zero for columns ≥ n. */
__attribute__((target("avx512f")))
static void pack_b(int transB, const float *B, long ldb, long p0, long kc, long j0, long nc, float *Bp) {
    for (long js = 0; js < nc; js += NR) {
        long nr = nc - js < NR ? nc - js : NR;
        float *dst = Bp + js * kc;
        if (!transB) {
            if (nr == NR) {
                for (long p = 0; p < kc; p++) {
                    const float *src = B + (p0 + p) * ldb + j0 + js;
                    _mm512_store_ps(dst + p * NR, _mm512_loadu_ps(src));
                    _mm512_store_ps(dst + p * NR + 16, _mm512_loadu_ps(src + 16));
                    _mm512_store_ps(dst + p * NR + 32, _mm512_loadu_ps(src + 32));
                }
            } else {
                for (long p = 0; p < kc; p++) {
                    const float *src = B + (p0 + p) * ldb + j0 + js;
                    for (long v = 0; v < NR; v += 16) {
                        long left = nr - v;
                        __mmask16 mk = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
                        _mm512_store_ps(dst + p * NR + v, _mm512_maskz_loadu_ps(mk, src + v));
                    }
                }
            }
        } else {
            /* op(B) = Bᵀ: whole groups of 16 columns go 16×16 blocks at a time through an
             * in-register transpose; the rest of k and of the strip element by element. */
            long p = 0, vj = nr / 16 * 16;
            if (vj > 0) {
                for (; p + 16 <= kc; p += 16)
                    for (long g = 0; g < vj / 16; g++) {
                        __m512 r[16];
                        for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_ps(B + (j0 + js + g * 16 + j) * ldb + p0 + p);
                        ck_transpose16(r);
                        for (int q = 0; q < 16; q++) _mm512_store_ps(dst + (p + q) * NR + g * 16, r[q]);
                    }
            }
            for (long j = 0; j < nr; j++) {
                const float *src = B + (j0 + js + j) * ldb + p0;
                for (long pp = j < vj ? p : 0; pp < kc; pp++) dst[pp * NR + j] = src[pp];
            }
            for (long j = nr; j < NR; j++)
                for (long pp = p; pp < kc; pp++) dst[pp * NR + j] = 0;
        }
    }
}

__attribute__((target("avx512f"), noinline))
void ck_micro_8x48(long kc, const float *restrict a, const float *restrict b,
                       float *c, const strip_out *out, long ldc, long mr, long nr, float alpha, float beta,
                       const epilogue *ep) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00,
           c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00,
           c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00,
           c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16), b2 = _mm512_load_ps(b + 32);
        __m512 ai;
#define CK_ROW(i)                                  \
        ai = _mm512_set1_ps(a[i]);                 \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0); \
        c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1); \
        c##i##2 = _mm512_fmadd_ps(ai, b2, c##i##2);
        CK_ROW(0) CK_ROW(1) CK_ROW(2) CK_ROW(3) CK_ROW(4) CK_ROW(5) CK_ROW(6) CK_ROW(7)
#undef CK_ROW
        a += MR;
        b += NR;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    if (out->scattered) {
        /* Some group crosses an image boundary: lane by lane through the column offsets. */
        float acc[MR][NR] __attribute__((aligned(64)));
#define CK_SPILL(i)                                  \
        _mm512_store_ps(acc[i], c##i##0);            \
        _mm512_store_ps(acc[i] + 16, c##i##1);       \
        _mm512_store_ps(acc[i] + 32, c##i##2);
        CK_SPILL(0) CK_SPILL(1) CK_SPILL(2) CK_SPILL(3) CK_SPILL(4) CK_SPILL(5) CK_SPILL(6) CK_SPILL(7)
#undef CK_SPILL
        for (long i = 0; i < mr; i++)
            for (long j = 0; j < nr; j++) {
                float *q = c + i * ldc + out->off[j];
                float r = beta != 0 ? alpha * acc[i][j] + beta * *q : alpha * acc[i][j];
                if (ep) {
                    if (ep->bias) r += ep->bias[i];
                    if (ep->add) r += ep->add[i * ldc + out->off[j]];
                    if (ep->relu) r = r > 0 ? r : 0;   /* NaN → 0 as in max(·, 0) below */
                }
                *q = r;
            }
        return;
    }
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    __mmask16 m2 = nr >= 48 ? 0xFFFF : nr <= 32 ? 0 : (__mmask16)((1u << (nr - 32)) - 1);
    float *g0 = c + out->off[0], *g1 = c + out->off[16], *g2 = c + out->off[32];
    const float *bias = ep ? ep->bias : NULL, *add = ep ? ep->add : NULL;
    int relu = ep && ep->relu;
    const __m512 zero = _mm512_setzero_ps();
    /* One 16-lane group: r = alpha·acc (+ beta·C) (+ bias) (+ add), max(r, 0) with relu. The
     * max takes r as its second operand, so a NaN r gives 0, as the scalar path does. */
#define CK_STORE1(ptr, acc, mk, i)                                                       \
    do {                                                                                 \
        __m512 r_ = _mm512_mul_ps(va, acc);                                              \
        if (beta != 0) r_ = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk, ptr), r_);     \
        if (bias) r_ = _mm512_add_ps(r_, _mm512_set1_ps(bias[i]));                        \
        if (add) r_ = _mm512_add_ps(r_, _mm512_maskz_loadu_ps(mk, add + ((ptr) - c)));   \
        if (relu) r_ = _mm512_max_ps(zero, r_);                                          \
        _mm512_mask_storeu_ps(ptr, mk, r_);                                              \
    } while (0)
#define CK_STORE(i)                                               \
    if (i < mr) {                                                 \
        long o_ = (long)(i) * ldc;                                \
        CK_STORE1(g0 + o_, c##i##0, m0, i);                       \
        if (m1) CK_STORE1(g1 + o_, c##i##1, m1, i);               \
        if (m2) CK_STORE1(g2 + o_, c##i##2, m2, i);               \
    }
    CK_STORE(0) CK_STORE(1) CK_STORE(2) CK_STORE(3) CK_STORE(4) CK_STORE(5) CK_STORE(6) CK_STORE(7)
#undef CK_STORE
#undef CK_STORE1
}

/* Where B comes from: a (possibly transposed) matrix (conv 0), or the implicit im2col of a
 * convolution's input (1) or its transpose (2), never materialised. */
typedef struct {
    int conv;
    int transB; const float *B; long ldb;          /* matrix */
    const ck_conv_shape *cs; const float *x;       /* convolution input, NCHW, first image */
    float *tmp;                                    /* conv == 2: 16·NR floats of staging */
} b_source;

/* Bp for a convolution: op(B)[r][j] = x[b][c][oy·sh + ky − ph][ox·sw + kx − pw] (0 outside),
 * with r = (c·kh + ky)·kw + kx and j = b·P₁ + oy·Wo + ox. A 16-column group inside one output
 * row is one masked load at stride 1, two masked loads and an even-lane permute at stride 2
 * (padding lanes masked off); at stride 1 a group spanning rows is one masked load per row
 * segment; any other group is a masked gather. */
__attribute__((target("avx512f")))
static void pack_b_conv(const ck_conv_shape *cs, const float *x, long p0, long kc, long j0, long nc, long n, float *Bp) {
    const long P1 = cs->ho * cs->wo, HW = cs->h * cs->w, kk = cs->kh * cs->kw, img = cs->cin * HW;
    const long sh = cs->sh, sw = cs->sw;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    /* Per row r = p0 + p: the tap's offsets (dy, dx) and its plane offset c·HW + dy·W + dx. */
    long tdy[KC], tdx[KC], toff[KC];
    for (long p = 0; p < kc; p++) {
        long r = p0 + p, c = r / kk, t = r % kk, ky = t / cs->kw, kx = t % cs->kw;
        tdy[p] = ky - cs->ph; tdx[p] = kx - cs->pw; toff[p] = c * HW + tdy[p] * cs->w + tdx[p];
    }
    for (long js = 0; js < nc; js += NR) {
        float *dst = Bp + js * kc;
        for (int g = 0; g < NR / 16; g++) {
            long jg = j0 + js + g * 16;                     /* first column of the group */
            long valid = n - jg;                            /* columns of the group < n */
            if (valid <= 0) {
                for (long p = 0; p < kc; p++) _mm512_store_ps(dst + p * NR + g * 16, _mm512_setzero_ps());
                continue;
            }
            long b0 = jg / P1, pix0 = jg % P1, oy0 = pix0 / cs->wo, ox0 = pix0 % cs->wo;
            int row = valid >= 16 && ox0 + 16 <= cs->wo && (sw == 1 || sw == 2);   /* all 16 in one output row */
            if (row) {
                long iy0 = oy0 * sh, ix0 = ox0 * sw;
                const float *xb = x + b0 * img + iy0 * cs->w + ix0;
                for (long p = 0; p < kc; p++) {
                    long iy = iy0 + tdy[p], ix = ix0 + tdx[p];
                    __m512 v = _mm512_setzero_ps();
                    if (iy >= 0 && iy < cs->h) {
                        /* input columns ix … ix + span − 1 are read; those in [0, W) are live */
                        long span = 16 * sw;
                        long lo = ix < 0 ? -ix : 0, hi = cs->w - ix < span ? cs->w - ix : span;
                        if (hi > lo) {
                            unsigned long long bits = (hi >= 64 ? ~0ull : ((1ull << hi) - 1)) & ~((1ull << lo) - 1);
                            const float *q = xb + toff[p];
                            if (sw == 1) {
                                v = _mm512_maskz_loadu_ps((__mmask16)bits, q);
                            } else {
                                __m512 a = _mm512_maskz_loadu_ps((__mmask16)bits, q);
                                __m512 b = _mm512_maskz_loadu_ps((__mmask16)(bits >> 16), q + 16);
                                v = _mm512_permutex2var_ps(a, even, b);
                            }
                        }
                    }
                    _mm512_store_ps(dst + p * NR + g * 16, v);
                }
            } else if (sw == 1 && cs->wo >= 5) {   /* ≤ 5 segments; narrower rows gather */
                /* The group spans output rows (or images): split it into row segments — lanes
                 * l0 … l0 + len − 1 of one (image, output row) read consecutive input columns —
                 * and merge one masked load per segment (masked-off lanes never touch memory). */
                long sl0[16], slen[16], sbase[16], siy[16], sox[16];
                int ns = 0;
                long lim = valid < 16 ? valid : 16;
                for (long l = 0; l < lim;) {
                    long q = jg + l, bb = q / P1, pix = q % P1, oy = pix / cs->wo, ox = pix % cs->wo;
                    long len = cs->wo - ox < lim - l ? cs->wo - ox : lim - l;
                    sl0[ns] = l; slen[ns] = len; siy[ns] = oy * sh; sox[ns] = ox;
                    sbase[ns] = bb * img + oy * sh * cs->w + ox - l;   /* lane l reads x[sbase + toff + l] */
                    ns++;
                    l += len;
                }
                for (long p = 0; p < kc; p++) {
                    __m512 v = _mm512_setzero_ps();
                    for (int sg = 0; sg < ns; sg++) {
                        long iy = siy[sg] + tdy[p];
                        if (iy < 0 || iy >= cs->h) continue;
                        /* lanes whose input column sox + (l − l0) + dx lies in [0, W) */
                        long c0 = sox[sg] + tdx[p];
                        long lo = sl0[sg] + (c0 < 0 ? -c0 : 0);
                        long hi = sl0[sg] + slen[sg], hw = sl0[sg] + (cs->w - c0);
                        if (hw < hi) hi = hw;
                        if (hi <= lo) continue;
                        __mmask16 mk = (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
                        const float *q = (const float *)((uintptr_t)x + (uintptr_t)((sbase[sg] + toff[p]) * (long)sizeof(float)));
                        v = _mm512_mask_loadu_ps(v, mk, q);
                    }
                    _mm512_store_ps(dst + p * NR + g * 16, v);
                }
            } else {
                /* Per-lane image and input origin (oy·sh, ox·sw) of columns jg + l; lanes ≥ valid off. */
                int bl[16], iyl[16], ixl[16];
                for (int l = 0; l < 16; l++) {
                    long q = jg - b0 * P1 + l, bb = q / P1, pix = q % P1;
                    bl[l] = (int)bb; iyl[l] = (int)((pix / cs->wo) * sh); ixl[l] = (int)((pix % cs->wo) * sw);
                }
                __m512i vb = _mm512_loadu_si512(bl), viy = _mm512_loadu_si512(iyl), vix = _mm512_loadu_si512(ixl);
                __mmask16 live = valid >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << valid) - 1);
                __m512i base = _mm512_add_epi32(_mm512_mullo_epi32(vb, _mm512_set1_epi32((int)img)),
                                                _mm512_add_epi32(_mm512_mullo_epi32(viy, _mm512_set1_epi32((int)cs->w)), vix));
                const float *xb = x + b0 * img;
                __m512i vh = _mm512_set1_epi32((int)cs->h), vw = _mm512_set1_epi32((int)cs->w);
                for (long p = 0; p < kc; p++) {
                    __m512i iy = _mm512_add_epi32(viy, _mm512_set1_epi32((int)tdy[p]));
                    __m512i ix = _mm512_add_epi32(vix, _mm512_set1_epi32((int)tdx[p]));
                    __mmask16 mk = live & _mm512_cmplt_epu32_mask(iy, vh) & _mm512_cmplt_epu32_mask(ix, vw);
                    __m512i idx = _mm512_add_epi32(base, _mm512_set1_epi32((int)toff[p]));
                    __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mk, idx, xb, 4);
                    _mm512_store_ps(dst + p * NR + g * 16, v);
                }
            }
        }
    }
}

/* Bp for a convolution's weight gradient, op(B) = im2col(x)ᵀ: op(B)[p][j] is tap j (row j of
 * im2col) at column p (image b, output pixel). Built from pack_b_conv: 16 taps × 48 columns
 * packed as im2col rows into `tmp`, then each 16×16 block transposed into the strips, so
 * the im2col matrix is never written out. tmp: 16·NR floats, 64-byte aligned. */
__attribute__((target("avx512f")))
static void pack_b_conv_t(const ck_conv_shape *cs, const float *x, long p0, long kc, long j0, long nc, long n,
                          long ncols, float *Bp, float *tmp) {
    for (long js = 0; js < nc; js += NR) {
        float *dst = Bp + js * kc;
        for (long tg = 0; tg < NR / 16; tg++) {
            long t0 = j0 + js + tg * 16, taps = n - t0 < 16 ? n - t0 : 16;   /* taps ≥ n are zero */
            for (long pb = 0; pb < kc; pb += NR) {
                if (taps > 0) pack_b_conv(cs, x, t0, taps, p0 + pb, NR, ncols, tmp);
                for (long t = taps > 0 ? taps : 0; t < 16; t++)
                    for (int v = 0; v < NR; v += 16) _mm512_store_ps(tmp + t * NR + v, _mm512_setzero_ps());
                for (long gp = 0; gp < NR / 16 && pb + gp * 16 < kc; gp++) {
                    __m512 r[16];
                    for (int t = 0; t < 16; t++) r[t] = _mm512_load_ps(tmp + t * NR + gp * 16);
                    ck_transpose16(r);
                    long left = kc - (pb + gp * 16);
                    for (long q = 0; q < 16 && q < left; q++) _mm512_store_ps(dst + (pb + gp * 16 + q) * NR + tg * 16, r[q]);
                }
            }
        }
    }
}

/* The blocked product over all of C with B from `src` and C's columns placed by
 * (cols_per_image, image_stride): column j lives at (j / cpi)·image_stride + j % cpi. */
__attribute__((target("avx512f")))
static void gemm_core(int transA, long m, long n, long k, float alpha, const float *A, long lda,
                      const b_source *src, float beta, float *C, long ldc, long cpi, long image_stride,
                      const epilogue *ep, float *Ap, float *Bp) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    strip_out out;
    for (long jc = 0; jc < n; jc += NC) {
        long nc = n - jc < NC ? n - jc : NC;
        for (long pc = 0; pc < k; pc += KC) {
            long kc = k - pc < KC ? k - pc : KC;
            float bt = pc == 0 ? beta : 1.0f;
            if (src->conv == 1) pack_b_conv(src->cs, src->x, pc, kc, jc, nc, n, Bp);
            else if (src->conv == 2) pack_b_conv_t(src->cs, src->x, pc, kc, jc, nc, n, k, Bp, src->tmp);
            else pack_b(src->transB, src->B, src->ldb, pc, kc, jc, nc, Bp);
            for (long ic = 0; ic < m; ic += MC) {
                long mc = m - ic < MC ? m - ic : MC;
                pack_a(transA, A, lda, ic, mc, pc, kc, Ap);
                for (long jr = 0; jr < nc; jr += NR) {
                    long nr = nc - jr < NR ? nc - jr : NR;
                    long j0 = jc + jr, base = (j0 / cpi) * image_stride + j0 % cpi;
                    out.scattered = 0;
                    for (long j = 0; j < NR; j++) {
                        long jj = j0 + j < n ? j0 + j : j0;
                        out.off[j] = (jj / cpi) * image_stride + jj % cpi - base;
                        if (j < nr && (j % 16) && out.off[j] != out.off[j - 1] + 1) out.scattered = 1;
                    }
                    float *cb = C + base;
                    int last = pc + kc >= k;
                    for (long ir = 0; ir < mc; ir += MR) {
                        long mr = mc - ir < MR ? mc - ir : MR;
                        epilogue tile, *tp = NULL;
                        if (last && ep) {   /* the epilogue's operands at this tile's origin */
                            tile.bias = ep->bias ? ep->bias + ic + ir : NULL;
                            tile.add = ep->add ? ep->add + base + (ic + ir) * ldc : NULL;
                            tile.relu = ep->relu;
                            tp = &tile;
                        }
                        ck_micro_8x48(kc, Ap + ir * kc, Bp + jr * kc, cb + (ic + ir) * ldc, &out, ldc,
                                   mr, nr, alpha, bt, tp);
                    }
                }
            }
        }
    }
}

long ck_pack_floats(void) { return (long)MC * KC + (long)KC * NC + 16L * NR; }

int ck_sgemm_avx512(int transA, int transB, long m, long n, long k,
                    float alpha, const float *A, long lda,
                    const float *B, long ldb,
                    float beta, float *C, long ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return 0;
    pack_buffers *pb = buffers();
    if (!pb) return -1;
    b_source src = { .conv = 0, .transB = transB, .B = B, .ldb = ldb };
    gemm_core(transA, m, n, k, alpha, A, lda, &src, beta, C, ldc, n, 0, NULL, pb->a, pb->b);
    return 0;
}

/* A consistent geometry, positive counts and an aligned packing buffer (the x86 entry points'
 * only refusals, checked before anything is read or written). */
int ck_conv_args_ok(const ck_conv_shape *s, long nb, long cout, const float *pack) {
    return pack && !((unsigned long)pack & 63) && s && nb > 0 && cout > 0 && s->cin > 0 && s->h > 0 && s->w > 0 &&
           s->kh > 0 && s->kw > 0 && s->sh > 0 && s->sw > 0 && s->ph >= 0 && s->pw >= 0 &&
           s->ho == (s->h + 2 * s->ph - s->kh) / s->sh + 1 && s->wo == (s->w + 2 * s->pw - s->kw) / s->sw + 1 &&
           s->ho > 0 && s->wo > 0;
}

int ck_conv_forward_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                           const float *w, float beta, float *y, long y_image_stride, float *pack) {
    return ck_conv_forward_ep_avx512(s, x, nb, cout, w, beta, y, y_image_stride, NULL, NULL, 0, pack);
}

int ck_conv_forward_ep_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                              const float *w, float beta, float *y, long y_image_stride,
                              const float *bias, const float *add, int relu, float *pack) {
    if (!ck_conv_args_ok(s, nb, cout, pack)) return -1;
    long P1 = s->ho * s->wo, K = s->cin * s->kh * s->kw;
    if (nb * s->cin * s->h * s->w > 0x7fffffffL) return -1;    /* gather offsets are int32 */
    b_source src = { .conv = 1, .cs = s, .x = x };
    epilogue ep = { bias, add, relu };
    gemm_core(0, cout, nb * P1, K, 1.0f, w, K, &src, beta, y, P1, P1, y_image_stride,
              (bias || add || relu) ? &ep : NULL, pack, pack + (long)MC * KC);
    return 0;
}

int ck_conv_weight_grad_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                               const float *dy, long lddy, float beta, float *dw, float *pack) {
    if (!ck_conv_args_ok(s, nb, cout, pack)) return -1;
    long P = nb * s->ho * s->wo, K = s->cin * s->kh * s->kw;
    if (lddy < P || nb * s->cin * s->h * s->w > 0x7fffffffL) return -1;
    b_source src = { .conv = 2, .cs = s, .x = x, .tmp = pack + (long)MC * KC + (long)KC * NC };
    gemm_core(0, cout, K, P, 1.0f, dy, lddy, &src, beta, dw, K, K, 0, NULL, pack, pack + (long)MC * KC);
    return 0;
}

#else  /* not x86: no AVX-512; callers check ck_have_avx512() first. */

int ck_have_avx512(void) { return 0; }

long ck_pack_floats(void) { return 0; }

int ck_sgemm_avx512(int transA, int transB, long m, long n, long k, float alpha, const float *A, long lda,
                    const float *B, long ldb, float beta, float *C, long ldc) {
    (void)transA; (void)transB; (void)m; (void)n; (void)k; (void)alpha; (void)A; (void)lda;
    (void)B; (void)ldb; (void)beta; (void)C; (void)ldc;
    return -1;
}

int ck_conv_forward_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                           const float *w, float beta, float *y, long y_image_stride, float *pack) {
    (void)s; (void)x; (void)nb; (void)cout; (void)w; (void)beta; (void)y; (void)y_image_stride; (void)pack;
    return -1;
}

int ck_conv_weight_grad_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                               const float *dy, long lddy, float beta, float *dw, float *pack) {
    (void)s; (void)x; (void)nb; (void)cout; (void)dy; (void)lddy; (void)beta; (void)dw; (void)pack;
    return -1;
}

int ck_conv_forward_ep_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                              const float *w, float beta, float *y, long y_image_stride,
                              const float *bias, const float *add, int relu, float *pack) {
    (void)s; (void)x; (void)nb; (void)cout; (void)w; (void)beta; (void)y; (void)y_image_stride;
    (void)bias; (void)add; (void)relu; (void)pack;
    return -1;
}
#endif
