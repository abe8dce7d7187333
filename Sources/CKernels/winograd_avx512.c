/*
 * 3×3 stride-1 pad-1 convolution by Winograd's F(2×2, 3×3), fused (Lavin & Gray 2016).
 *
 * Each 2×2 output tile comes from a 4×4 input tile d:
 *   V = Bᵀ d B,   U = G g Gᵀ,   Y = Aᵀ [ Σ_ci U ⊙ V ] A
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
 *   Aᵀ = [1 1 1 0; 0 1 −1 −1].
 * The sum over input channels is, for each of the 16 positions ξ of a tile, a GEMM
 * M_ξ[Cout × tiles] = U_ξ[Cout × Cin] · V_ξ[Cin × tiles]: 16 multiplications per 4 outputs
 * per (ci, co) instead of 36.
 *
 * Nothing is materialised beyond one panel of 48 tiles (the micro-kernel's NR):
 *   for each panel of 48 tiles (16-lane groups: lane = tile)
 *     V[ξ][ci][48]  ← input transform, written straight in the micro-kernel's B layout
 *     M[ξ][co][48]  ← ck_micro_8x48 over (co block of 8) × Cin for each ξ  (V_ξ stays in L2)
 *     y             ← output transform + epilogue (bias, residual add, ReLU) per (co, tile group)
 * A 16-tile group inside one tile row is read with masked row loads and an even-lane permute
 * and written with two interleaving permutes; groups that span rows or images gather and
 * store lane by lane (narrow planes, where Cout is large and the GEMM dominates anyway).
 */
#include "CKernels.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include "gemm_internal.h"

long ck_winograd_weight_floats(long cin, long cout) {
    return cin > 0 && cout > 0 ? (cout + 7) / 8 * 8 * 16 * cin : 0;
}

long ck_winograd_scratch_floats(long cin, long cout) {
    return cin > 0 && cout > 0 ? 16 * cin * (long)NR + 16 * ((cout + 7) / 8 * 8) * (long)NR : 0;
}

/* U[blk][ξ][ci][r] = (G g Gᵀ)[ξ] of g = w[blk·8 + r][ci] (zero for channels ≥ cout). */
void ck_winograd_weights(const float *w, long cout, long cin, long blk0, long blk1, float *U) {
    for (long blk = blk0; blk < blk1; blk++) {
        float *ub = U + blk * 16 * cin * 8;
        for (long r = 0; r < 8; r++) {
            long co = blk * 8 + r;
            for (long ci = 0; ci < cin; ci++) {
                float u[16];
                if (co >= cout) {
                    memset(u, 0, sizeof u);
                } else {
                    const float *k = w + (co * cin + ci) * 9;
                    /* G g: 4×3, column c from (k[c], k[3+c], k[6+c]). */
                    float gg[4][3];
                    for (int c = 0; c < 3; c++) {
                        float g0 = k[c], g1 = k[3 + c], g2 = k[6 + c];
                        gg[0][c] = g0; gg[1][c] = 0.5f * (g0 + g1 + g2);
                        gg[2][c] = 0.5f * (g0 - g1 + g2); gg[3][c] = g2;
                    }
                    /* (G g) Gᵀ */
                    for (int i = 0; i < 4; i++) {
                        float a = gg[i][0], b = gg[i][1], c = gg[i][2];
                        u[i * 4 + 0] = a; u[i * 4 + 1] = 0.5f * (a + b + c);
                        u[i * 4 + 2] = 0.5f * (a - b + c); u[i * 4 + 3] = c;
                    }
                }
                for (int xi = 0; xi < 16; xi++) ub[((long)xi * cin + ci) * 8 + r] = u[xi];
            }
        }
    }
}

/* A run of lanes l0 … l0 + len − 1 of a 16-tile group lying in one tile row: image b, tile
 * row ty, first tile column tx. */
typedef struct { long l0, len, b, ty, tx; } seg_t;

/* Groups of at most this many segments load and store rows with masked vector accesses;
 * groups of more (planes ≤ 6 wide) gather and store lane by lane. */
enum { MAX_SEGMENTS = 4 };

/* The segments of the group of tiles jg … jg + min(valid, 16) − 1; returns their count. */
static int group_segments(long jg, long valid, long Ti, long txN, seg_t *sg) {
    int ns = 0;
    long lim = valid < 16 ? valid : 16;
    for (long l = 0; l < lim;) {
        long j = jg + l, t = j % Ti, tx = t % txN;
        long len = txN - tx < lim - l ? txN - tx : lim - l;
        sg[ns].l0 = l; sg[ns].len = len; sg[ns].b = j / Ti; sg[ns].ty = t / txN; sg[ns].tx = tx;
        ns++;
        l += len;
    }
    return ns;
}

/* Where each segment's tiles sit in an output-shaped plane (y, or dy in the weight gradient):
 * positions 2·l0 … 2·(l0 + len) − 1 of a 32-float pair (tile l → 2l, 2l + 1) are columns
 * 2·tx … of the segment's rows; bits[k] marks those inside the plane (columns < W), and
 * position p of row a of channel co is at base[k] + co·H·W + a·W + p (image stride ys). */
static void output_positions(const seg_t *sg, int ns, long W, long ys, unsigned *bits, long *base) {
    for (int k = 0; k < ns; k++) {
        long p0 = 2 * sg[k].l0, p1 = 2 * (sg[k].l0 + sg[k].len), hi = p0 + W - 2 * sg[k].tx;
        if (hi > p1) hi = p1;
        bits[k] = hi <= p0 ? 0u : (unsigned)(((1ull << hi) - 1) & ~((1ull << p0) - 1));
        base[k] = sg[k].b * ys + 2 * sg[k].ty * W + 2 * sg[k].tx - p0;
    }
}

/* Bᵀ d B of 16 tiles at once (lane = tile): d[r·4 + c] in, V_ξ stored at v + ξ·vstride. */
__attribute__((target("avx512f"), always_inline))
static inline void input_tiles(const __m512 d[16], float *v, long vstride) {
    __m512 t[16];
    for (int c = 0; c < 4; c++) {
        t[0 * 4 + c] = _mm512_sub_ps(d[0 * 4 + c], d[2 * 4 + c]);
        t[1 * 4 + c] = _mm512_add_ps(d[1 * 4 + c], d[2 * 4 + c]);
        t[2 * 4 + c] = _mm512_sub_ps(d[2 * 4 + c], d[1 * 4 + c]);
        t[3 * 4 + c] = _mm512_sub_ps(d[1 * 4 + c], d[3 * 4 + c]);
    }
    for (int i = 0; i < 4; i++) {
        _mm512_store_ps(v + (i * 4 + 0) * vstride, _mm512_sub_ps(t[i * 4 + 0], t[i * 4 + 2]));
        _mm512_store_ps(v + (i * 4 + 1) * vstride, _mm512_add_ps(t[i * 4 + 1], t[i * 4 + 2]));
        _mm512_store_ps(v + (i * 4 + 2) * vstride, _mm512_sub_ps(t[i * 4 + 2], t[i * 4 + 1]));
        _mm512_store_ps(v + (i * 4 + 3) * vstride, _mm512_sub_ps(t[i * 4 + 1], t[i * 4 + 3]));
    }
}

/* V[ξ][ci][0..47] for tiles j0 … j0 + nt − 1 (tiles ≥ nt zero). Tile j: image j / Ti, tile row
 * (j % Ti) / txN, tile column (j % Ti) % txN; its input rows/columns start at 2·t − 1. */
__attribute__((target("avx512f")))
static void input_panel(const ck_conv_shape *s, const float *x, long j0, long nt, long Ti, long txN, float *V) {
    const long cin = s->cin, H = s->h, W = s->w, HW = H * W, img = cin * HW, vstride = cin * NR;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int g = 0; g < NR / 16; g++) {
        long jg = j0 + g * 16, valid = nt - g * 16;
        float *vg = V + g * 16;
        if (valid <= 0) {
            for (int xi = 0; xi < 16; xi++)
                for (long ci = 0; ci < cin; ci++) _mm512_store_ps(vg + xi * vstride + ci * NR, _mm512_setzero_ps());
            continue;
        }
        long b0 = jg / Ti;
        __m512 d[16];
        seg_t sg[16];
        int ns = group_segments(jg, valid, Ti, txN, sg);
        if (ns <= MAX_SEGMENTS) {
            /* Each segment (lanes l0 … l0 + len − 1 of one tile row) fills positions 2·l0 …
             * 2·(l0 + len) − 1 of a 32-float pair (a, b) by masked loads from its input row;
             * position p, column offset c reads input column 2·tx − 1 + c + (p − 2·l0), and
             * the even positions are the lanes. Out-of-plane positions stay zero. */
            unsigned bits[MAX_SEGMENTS][4];
            long col[MAX_SEGMENTS][4], row[MAX_SEGMENTS];
            int rowok[MAX_SEGMENTS][4];
            for (int k = 0; k < ns; k++) {
                long p0 = 2 * sg[k].l0, p1 = 2 * (sg[k].l0 + sg[k].len);
                for (int c = 0; c < 4; c++) {
                    col[k][c] = 2 * sg[k].tx - 1 + c - p0;          /* column of position p: col + p */
                    long lo = -col[k][c] > p0 ? -col[k][c] : p0, hi = W - col[k][c] < p1 ? W - col[k][c] : p1;
                    bits[k][c] = hi <= lo ? 0u : (unsigned)(((1ull << hi) - 1) & ~((1ull << lo) - 1));
                }
                row[k] = (sg[k].b - b0) * img + (2 * sg[k].ty - 1) * W;
                for (int r = 0; r < 4; r++) { long iy = 2 * sg[k].ty - 1 + r; rowok[k][r] = iy >= 0 && iy < H; }
            }
            const uintptr_t xb = (uintptr_t)(x + b0 * img);
            for (long ci = 0; ci < cin; ci++) {
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++) {
                        __m512 a = _mm512_setzero_ps(), b = a;
                        for (int k = 0; k < ns; k++) {
                            if (!rowok[k][r]) continue;
                            const float *q = (const float *)(xb + (uintptr_t)((ci * HW + row[k] + r * W + col[k][c]) * (long)sizeof(float)));
                            __mmask16 ma = (__mmask16)(bits[k][c] & 0xFFFF), mb = (__mmask16)(bits[k][c] >> 16);
                            if (ma) a = _mm512_mask_loadu_ps(a, ma, q);
                            if (mb) b = _mm512_mask_loadu_ps(b, mb, (const float *)((uintptr_t)q + 16 * sizeof(float)));
                        }
                        d[r * 4 + c] = _mm512_permutex2var_ps(a, even, b);
                    }
                input_tiles(d, vg + ci * NR, vstride);
            }
        } else {
            /* Lanes across rows or images: per-lane origins, masked gathers. */
            int base[16];
            int iy0[16], ix0[16];
            for (int l = 0; l < 16; l++) {
                long j = jg + (l < valid ? l : 0), b = j / Ti - b0, t = j % Ti;
                iy0[l] = (int)(2 * (t / txN) - 1); ix0[l] = (int)(2 * (t % txN) - 1);
                base[l] = (int)(b * img + (long)iy0[l] * W + ix0[l]);
            }
            __mmask16 live = valid >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << valid) - 1);
            __mmask16 mk[16];
            __m512i vbase = _mm512_loadu_si512(base), viy = _mm512_loadu_si512(iy0), vix = _mm512_loadu_si512(ix0);
            __m512i vh = _mm512_set1_epi32((int)H), vw = _mm512_set1_epi32((int)W);
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                    mk[r * 4 + c] = live & _mm512_cmplt_epu32_mask(_mm512_add_epi32(viy, _mm512_set1_epi32(r)), vh)
                                         & _mm512_cmplt_epu32_mask(_mm512_add_epi32(vix, _mm512_set1_epi32(c)), vw);
            const float *xb = x + b0 * img;
            for (long ci = 0; ci < cin; ci++) {
                __m512i bci = _mm512_add_epi32(vbase, _mm512_set1_epi32((int)(ci * HW)));
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++)
                        d[r * 4 + c] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mk[r * 4 + c],
                                                                _mm512_add_epi32(bci, _mm512_set1_epi32((int)(r * W + c))), xb, 4);
                input_tiles(d, vg + ci * NR, vstride);
            }
        }
    }
}

/* Y = Aᵀ M A for 16 tiles: m[ξ] in, y[a·2 + b] out (output row a, column b of each tile). */
__attribute__((target("avx512f"), always_inline))
static inline void output_tiles(const __m512 m[16], __m512 y[4]) {
    __m512 s0[4], s1[4];
    for (int j = 0; j < 4; j++) {
        s0[j] = _mm512_add_ps(_mm512_add_ps(m[0 * 4 + j], m[1 * 4 + j]), m[2 * 4 + j]);
        s1[j] = _mm512_sub_ps(_mm512_sub_ps(m[1 * 4 + j], m[2 * 4 + j]), m[3 * 4 + j]);
    }
    y[0] = _mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), s0[2]);
    y[1] = _mm512_sub_ps(_mm512_sub_ps(s0[1], s0[2]), s0[3]);
    y[2] = _mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), s1[2]);
    y[3] = _mm512_sub_ps(_mm512_sub_ps(s1[1], s1[2]), s1[3]);
}

/* One output element: r (+ beta·y) (+ bias) (+ add), max(·, 0) — the micro-kernel's order. */
static inline float epilogue1(float r, float *q, const float *a, float beta, float bias, int relu) {
    if (beta != 0) r = beta * *q + r;
    r += bias;
    if (a) r += *a;
    if (relu) r = r > 0 ? r : 0;
    return r;
}

__attribute__((target("avx512f")))
static void output_panel(const ck_conv_shape *s, long j0, long nt, long Ti, long txN, long cout, long coPad,
                         const float *M, float beta, float *y, long ys, const float *bias, const float *add, int relu) {
    const long H = s->h, W = s->w, HW = H * W;
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 zero = _mm512_setzero_ps(), vb = _mm512_set1_ps(beta);
    for (int g = 0; g < NR / 16; g++) {
        long jg = j0 + g * 16, valid = nt - g * 16;
        if (valid <= 0) break;
        seg_t sg[16];
        int ns = group_segments(jg, valid, Ti, txN, sg);
        unsigned obits[MAX_SEGMENTS];
        long obase[MAX_SEGMENTS];
        if (ns <= MAX_SEGMENTS) output_positions(sg, ns, W, ys, obits, obase);
        for (long co = 0; co < cout; co++) {
            __m512 m[16], yv[4];
            const float *mc = M + co * NR + g * 16;
            for (int xi = 0; xi < 16; xi++) m[xi] = _mm512_load_ps(mc + xi * coPad * NR);
            output_tiles(m, yv);
            float bco = bias ? bias[co] : 0.0f;
            if (ns <= MAX_SEGMENTS) {
                /* Rows a = 0, 1 of the tiles, interleaved into positions (tile l → 2l, 2l + 1),
                 * stored segment by segment with masks. */
                __m512 vbias = _mm512_set1_ps(bco);
                for (int a = 0; a < 2; a++) {
                    __m512 r[2] = { _mm512_permutex2var_ps(yv[a * 2], lo, yv[a * 2 + 1]),
                                    _mm512_permutex2var_ps(yv[a * 2], hi, yv[a * 2 + 1]) };
                    for (int k = 0; k < ns; k++) {
                        if (2 * sg[k].ty + a >= H) continue;
                        long off = obase[k] + co * HW + a * W;
                        for (int h = 0; h < 2; h++) {
                            __mmask16 mk = (__mmask16)(obits[k] >> (16 * h));
                            if (!mk) continue;
                            float *q = (float *)((uintptr_t)y + (uintptr_t)((off + 16 * h) * (long)sizeof(float)));
                            __m512 v = r[h];
                            if (beta != 0) v = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk, q), v);
                            if (bias) v = _mm512_add_ps(v, vbias);
                            if (add) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, (const float *)((uintptr_t)add + ((uintptr_t)q - (uintptr_t)y))));
                            if (relu) v = _mm512_max_ps(zero, v);
                            _mm512_mask_storeu_ps(q, mk, v);
                        }
                    }
                }
            } else {
                float t[4][16] __attribute__((aligned(64)));
                for (int i = 0; i < 4; i++) _mm512_store_ps(t[i], yv[i]);
                for (long l = 0; l < valid && l < 16; l++) {
                    long j = jg + l, b = j / Ti, tt = j % Ti, oy0 = 2 * (tt / txN), ox0 = 2 * (tt % txN);
                    for (int a = 0; a < 2; a++) {
                        if (oy0 + a >= H) break;
                        for (int c = 0; c < 2; c++) {
                            if (ox0 + c >= W) break;
                            long off = b * ys + co * HW + (oy0 + a) * W + ox0 + c;
                            y[off] = epilogue1(t[a * 2 + c][l], y + off, add ? add + off : NULL, beta, bco, relu);
                        }
                    }
                }
            }
        }
    }
}

int ck_winograd_forward_avx512(const ck_conv_shape *s, const float *x, long nb, long cout, const float *U,
                               float beta, float *y, long y_image_stride,
                               const float *bias, const float *add, int relu, float *scratch) {
    if (!ck_conv_args_ok(s, nb, cout, scratch) || !U || !x || !y) return -1;
    if (s->kh != 3 || s->kw != 3 || s->sh != 1 || s->sw != 1 || s->ph != 1 || s->pw != 1) return -1;
    if (nb * s->cin * s->h * s->w > 0x7fffffffL) return -1;    /* gather offsets are int32 */
    const long cin = s->cin, txN = (s->w + 1) / 2, Ti = (s->h + 1) / 2 * txN, T = nb * Ti;
    const long coPad = (cout + 7) / 8 * 8;
    float *V = scratch, *M = scratch + 16 * cin * (long)NR;
    strip_out ident;
    for (long j = 0; j < NR; j++) ident.off[j] = j;
    ident.scattered = 0;
    for (long j0 = 0; j0 < T; j0 += NR) {
        long nt = T - j0 < NR ? T - j0 : NR;
        input_panel(s, x, j0, nt, Ti, txN, V);
        for (int xi = 0; xi < 16; xi++)
            for (long blk = 0; blk < coPad / 8; blk++)
                ck_micro_8x48(cin, U + (blk * 16 + xi) * cin * 8, V + xi * cin * NR,
                              M + (xi * coPad + blk * 8) * NR, &ident, NR, MR, NR, 1.0f, 0.0f, NULL);
        output_panel(s, j0, nt, Ti, txN, cout, coPad, M, beta, y, y_image_stride, bias, add, relu);
    }
    return 0;
}

/* ---- weight gradient ----------------------------------------------------------------
 * The adjoint of Y = Aᵀ[(G g Gᵀ) ⊙ V]A with respect to g, summed over tiles:
 *   dg = Gᵀ [ Σ_t (A dY_t Aᵀ) ⊙ V_t ] G,
 * i.e. for each ξ a GEMM M_ξ[co][ci] = Σ_t Z_ξ[co][t] · V_ξ[ci][t] with K = tiles, then a
 * 4×4 → 3×3 transform per (co, ci). Per chunk of WG_TILES tiles: V by the forward's input
 * transform (lane = tile), Z = A dY Aᵀ the same way from dY, both turned tile-major by 16×16
 * in-register transposes into the micro-kernel's operands (A: 8 output channels per tile,
 * B: 48 input channels per tile), and the 16 GEMMs accumulate into M.
 */
enum { WG_TILES = 2 * NR };

long ck_winograd_wgrad_scratch_floats(long cin, long cout) {
    if (cin <= 0 || cout <= 0) return 0;
    long coPad = (cout + 7) / 8 * 8, ciPad = (cin + NR - 1) / NR * NR;
    return 16 * cin * (long)NR              /* V of one panel, lane = tile */
         + 16 * coPad * (long)NR            /* Z of one panel */
         + 16 * ciPad * (long)WG_TILES      /* B operand: [ξ][ci panel][t][48] */
         + 16 * (coPad + 8) * (long)WG_TILES /* A operand: [ξ][co block][t][8] (+ one block of slack) */
         + 16 * coPad * ciPad;              /* M */
}

/* Z_ξ[co][lane] = (A dY Aᵀ)[ξ] for tiles j0 … j0 + nt − 1 (lanes ≥ nt zero): the tile's dY
 * is the 2×2 block at rows/columns 2·ty, 2·tx of dy (zero past the plane). */
__attribute__((target("avx512f")))
static void dy_panel(const ck_conv_shape *s, const float *dy, long ys, long cout, long coPad,
                     long j0, long nt, long Ti, long txN, float *Z) {
    const long H = s->h, W = s->w, HW = H * W, zstride = coPad * NR;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 zero = _mm512_setzero_ps();
    for (int g = 0; g < NR / 16; g++) {
        long jg = j0 + g * 16, valid = nt - g * 16;
        float *zg = Z + g * 16;
        if (valid <= 0) {
            for (int xi = 0; xi < 16; xi++)
                for (long co = 0; co < coPad; co++) _mm512_store_ps(zg + xi * zstride + co * NR, zero);
            continue;
        }
        seg_t sg[16];
        int ns = group_segments(jg, valid, Ti, txN, sg);
        unsigned bits[MAX_SEGMENTS];
        long base[MAX_SEGMENTS];
        if (ns <= MAX_SEGMENTS) output_positions(sg, ns, W, ys, bits, base);
        for (long co = 0; co < coPad; co++) {
            __m512 d[2][2];   /* d[a][c]: row a, column c of each tile's dY */
            if (co >= cout) {
                d[0][0] = d[0][1] = d[1][0] = d[1][1] = zero;
            } else if (ns <= MAX_SEGMENTS) {
                for (int a = 0; a < 2; a++) {
                    __m512 lo = zero, hi = zero;
                    for (int k = 0; k < ns; k++) {
                        if (2 * sg[k].ty + a >= H) continue;
                        const float *q = (const float *)((uintptr_t)dy + (uintptr_t)((base[k] + co * HW + a * W) * (long)sizeof(float)));
                        __mmask16 ml = (__mmask16)(bits[k] & 0xFFFF), mh = (__mmask16)(bits[k] >> 16);
                        if (ml) lo = _mm512_mask_loadu_ps(lo, ml, q);
                        if (mh) hi = _mm512_mask_loadu_ps(hi, mh, (const float *)((uintptr_t)q + 16 * sizeof(float)));
                    }
                    d[a][0] = _mm512_permutex2var_ps(lo, even, hi);
                    d[a][1] = _mm512_permutex2var_ps(lo, odd, hi);
                }
            } else {
                float t[2][2][16] __attribute__((aligned(64)));
                memset(t, 0, sizeof t);
                for (long l = 0; l < valid && l < 16; l++) {
                    long j = jg + l, b = j / Ti, tt = j % Ti, oy0 = 2 * (tt / txN), ox0 = 2 * (tt % txN);
                    for (int a = 0; a < 2 && oy0 + a < H; a++)
                        for (int c = 0; c < 2 && ox0 + c < W; c++)
                            t[a][c][l] = dy[b * ys + co * HW + (oy0 + a) * W + ox0 + c];
                }
                for (int a = 0; a < 2; a++) for (int c = 0; c < 2; c++) d[a][c] = _mm512_load_ps(t[a][c]);
            }
            /* rows: u0 = d0, u1 = d0 + d1, u2 = d0 − d1, u3 = −d1; columns the same. */
            __m512 u[4][2];
            for (int c = 0; c < 2; c++) {
                u[0][c] = d[0][c];
                u[1][c] = _mm512_add_ps(d[0][c], d[1][c]);
                u[2][c] = _mm512_sub_ps(d[0][c], d[1][c]);
                u[3][c] = _mm512_sub_ps(zero, d[1][c]);
            }
            float *zc = zg + co * NR;
            for (int i = 0; i < 4; i++) {
                _mm512_store_ps(zc + (i * 4 + 0) * zstride, u[i][0]);
                _mm512_store_ps(zc + (i * 4 + 1) * zstride, _mm512_add_ps(u[i][0], u[i][1]));
                _mm512_store_ps(zc + (i * 4 + 2) * zstride, _mm512_sub_ps(u[i][0], u[i][1]));
                _mm512_store_ps(zc + (i * 4 + 3) * zstride, _mm512_sub_ps(zero, u[i][1]));
            }
        }
    }
}

/* C[8 × 16·nv] += Σ_k a[k][0..7] · b[k][0..16·nv) for nv = 1 or 2 vectors of a 48-wide B strip
 * (row stride NR), C row stride ldc: the last input-channel panel of the weight gradient when
 * fewer than 33 of its 48 columns are real channels, so no FMAs go to zero padding. */
__attribute__((target("avx512f"), noinline))
static void micro_8x16v(long kc, const float *restrict a, const float *restrict b, float *c, long ldc, int nv) {
    __m512 c0[8], c1[8];
    for (int i = 0; i < 8; i++) { c0[i] = _mm512_loadu_ps(c + i * ldc); c1[i] = nv > 1 ? _mm512_loadu_ps(c + i * ldc + 16) : c0[i]; }
    if (nv > 1) {
        for (long p = 0; p < kc; p++, a += MR, b += NR) {
            __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
            for (int i = 0; i < 8; i++) {
                __m512 ai = _mm512_set1_ps(a[i]);
                c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
                c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
            }
        }
    } else {
        for (long p = 0; p < kc; p++, a += MR, b += NR) {
            __m512 b0 = _mm512_load_ps(b);
            for (int i = 0; i < 8; i++) c0[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), b0, c0[i]);
        }
    }
    for (int i = 0; i < 8; i++) {
        _mm512_storeu_ps(c + i * ldc, c0[i]);
        if (nv > 1) _mm512_storeu_ps(c + i * ldc + 16, c1[i]);
    }
}

__attribute__((target("avx512f")))
int ck_winograd_weight_grad_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                                   const float *dy, long dy_image_stride, float beta, float *dw, float *scratch) {
    if (!ck_conv_args_ok(s, nb, cout, scratch) || !x || !dy || !dw) return -1;
    if (s->kh != 3 || s->kw != 3 || s->sh != 1 || s->sw != 1 || s->ph != 1 || s->pw != 1) return -1;
    if (nb * s->cin * s->h * s->w > 0x7fffffffL) return -1;    /* gather offsets are int32 */
    const long cin = s->cin, txN = (s->w + 1) / 2, Ti = (s->h + 1) / 2 * txN, T = nb * Ti;
    const long coPad = (cout + 7) / 8 * 8, ciPad = (cin + NR - 1) / NR * NR, nblk = coPad / 8, npan = ciPad / NR;
    /* Input channels rounded to 16 (the columns transposed and multiplied; the rest of the
     * last 48-wide panel is never read). */
    const long ci16 = (cin + 15) / 16 * 16;
    float *V = scratch, *Z = V + 16 * cin * (long)NR, *Bt = Z + 16 * coPad * (long)NR;
    float *At = Bt + 16 * ciPad * (long)WG_TILES, *M = At + 16 * (coPad + 8) * (long)WG_TILES;
    memset(M, 0, sizeof(float) * 16 * coPad * ciPad);
    strip_out out;
    for (long j = 0; j < NR; j++) out.off[j] = j;
    out.scattered = 0;
    const __m512 zero = _mm512_setzero_ps();
    for (long c0 = 0; c0 < T; c0 += WG_TILES) {
        long ct = T - c0 < WG_TILES ? T - c0 : WG_TILES;
        long npanels = (ct + NR - 1) / NR, kc = npanels * NR;
        for (long q = 0; q < npanels; q++) {
            long j0 = c0 + q * NR, nt = T - j0 < NR ? T - j0 : NR;
            input_panel(s, x, j0, nt, Ti, txN, V);
            dy_panel(s, dy, dy_image_stride, cout, coPad, j0, nt, Ti, txN, Z);
            for (int xi = 0; xi < 16; xi++) {
                /* B operand: Bt[ξ][panel][t][48] ← V[ξ][ci][t], 16 channels × 16 tiles at a time. */
                const float *vx = V + (long)xi * cin * NR;
                for (long cb = 0; cb < ci16; cb += 16)
                    for (int g = 0; g < NR / 16; g++) {
                        __m512 r[16];
                        for (int i = 0; i < 16; i++) r[i] = cb + i < cin ? _mm512_load_ps(vx + (cb + i) * NR + g * 16) : zero;
                        ck_transpose16(r);
                        float *dst = Bt + (((long)xi * npan + cb / NR) * WG_TILES + q * NR + g * 16) * NR + cb % NR;
                        for (int t = 0; t < 16; t++) _mm512_store_ps(dst + t * NR, r[t]);
                    }
                /* A operand: At[ξ][blk][t][8] ← Z[ξ][co][t], two blocks of 8 channels at a time. */
                const float *zx = Z + (long)xi * coPad * NR;
                for (long blk = 0; blk < nblk; blk += 2)
                    for (int g = 0; g < NR / 16; g++) {
                        __m512 r[16];
                        for (int i = 0; i < 16; i++) {
                            long co = blk * 8 + i;
                            r[i] = co < coPad ? _mm512_load_ps(zx + co * NR + g * 16) : zero;
                        }
                        ck_transpose16(r);
                        float *d0 = At + (((long)xi * (nblk + 1) + blk) * WG_TILES + q * NR + g * 16) * 8;
                        for (int t = 0; t < 16; t++) {
                            _mm256_store_ps(d0 + t * 8, _mm512_castps512_ps256(r[t]));
                            _mm256_store_ps(d0 + WG_TILES * 8 + t * 8, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(r[t]), 1)));
                        }
                    }
            }
        }
        for (int xi = 0; xi < 16; xi++)
            for (long blk = 0; blk < nblk; blk++)
                for (long p = 0; p < npan; p++) {
                    const float *ap = At + ((long)xi * (nblk + 1) + blk) * WG_TILES * 8;
                    const float *bp = Bt + ((long)xi * npan + p) * WG_TILES * NR;
                    float *mp = M + ((long)xi * coPad + blk * 8) * ciPad + p * NR;
                    long vecs = (ci16 - p * NR) / 16;
                    if (vecs >= 3) ck_micro_8x48(kc, ap, bp, mp, &out, ciPad, MR, NR, 1.0f, 1.0f, NULL);
                    else micro_8x16v(kc, ap, bp, mp, ciPad, (int)vecs);
                }
    }
    /* dw = Gᵀ M G (+ beta·dw), per (co, ci). */
    const long ms = coPad * ciPad;
    for (long co = 0; co < cout; co++)
        for (long ci = 0; ci < cin; ci++) {
            const float *m = M + co * ciPad + ci;
            float X[3][4], R[9];
            for (int j = 0; j < 4; j++) {
                float m0 = m[(0 * 4 + j) * ms], m1 = m[(1 * 4 + j) * ms], m2 = m[(2 * 4 + j) * ms], m3 = m[(3 * 4 + j) * ms];
                X[0][j] = m0 + 0.5f * (m1 + m2);
                X[1][j] = 0.5f * (m1 - m2);
                X[2][j] = 0.5f * (m1 + m2) + m3;
            }
            for (int k = 0; k < 3; k++) {
                R[k * 3 + 0] = X[k][0] + 0.5f * (X[k][1] + X[k][2]);
                R[k * 3 + 1] = 0.5f * (X[k][1] - X[k][2]);
                R[k * 3 + 2] = 0.5f * (X[k][1] + X[k][2]) + X[k][3];
            }
            float *d = dw + (co * cin + ci) * 9;
            for (int i = 0; i < 9; i++) d[i] = beta != 0 ? beta * d[i] + R[i] : R[i];
        }
    return 0;
}

#else  /* not x86 */

long ck_winograd_weight_floats(long cin, long cout) { (void)cin; (void)cout; return 0; }
long ck_winograd_scratch_floats(long cin, long cout) { (void)cin; (void)cout; return 0; }
void ck_winograd_weights(const float *w, long cout, long cin, long blk0, long blk1, float *U) {
    (void)w; (void)cout; (void)cin; (void)blk0; (void)blk1; (void)U;
}
long ck_winograd_wgrad_scratch_floats(long cin, long cout) { (void)cin; (void)cout; return 0; }
int ck_winograd_weight_grad_avx512(const ck_conv_shape *s, const float *x, long nb, long cout,
                                   const float *dy, long dy_image_stride, float beta, float *dw, float *scratch) {
    (void)s; (void)x; (void)nb; (void)cout; (void)dy; (void)dy_image_stride; (void)beta; (void)dw; (void)scratch;
    return -1;
}
int ck_winograd_forward_avx512(const ck_conv_shape *s, const float *x, long nb, long cout, const float *U,
                               float beta, float *y, long y_image_stride,
                               const float *bias, const float *add, int relu, float *scratch) {
    (void)s; (void)x; (void)nb; (void)cout; (void)U; (void)beta; (void)y; (void)y_image_stride;
    (void)bias; (void)add; (void)relu; (void)scratch;
    return -1;
}
#endif
