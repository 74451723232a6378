/*
 * qa._ssimkernel: the per-frame SSIM sums of qa/ssim.py as one fused, cache-resident pass.
 *
 * Why C: the OpenCV path in qa/ssim.py makes ~25 library calls per 180-row strip and streams
 * ten float maps per strip through L2; its floor on this project's reference machine is
 * ~19 ms per 1080p pair. The arithmetic itself is 4 moments x 2 passes x 11 taps = 88
 * multiply-adds per pixel; this file does exactly that work, tile by tile, with every buffer in
 * L1/L2 (~7 ms per 1080p pair on the same machine, benchmarks/bench_qa.py --kernels).
 *
 * Same definition as qa/ssim.py (Wang et al. 2004, eq. 13; 11x11 Gaussian, sigma 1.5, given as
 * the 11 normalised 1-D taps by the caller; population moments; BORDER_REFLECT "dcba|abcd"
 * borders, which are scipy.ndimage's mode="reflect" that scikit-image uses). Moments are float32
 * as in the OpenCV path; sums are accumulated per tile row in float32 and per frame in double.
 *
 * Data flow, per column tile of TW output columns (plus a 5-column halo each side):
 *   input rows (u8/u16/f32) --fill--> ring of 12 rows x {x, y, x^2+y^2, xy} (float32)
 *   ring --vertical 11 taps, two output rows per step--> V (2 x 4 x (TW+10))
 *   V --horizontal 11 taps + formula--> SSIM row --masked sums--> out / in / full / sq err
 * Each input row is converted once per tile; the ring (12 x 4 x 144 floats = 27 KB) stays in
 * L1. Moment rows are padded to whole 16-float vectors so that the vertical pass never runs a
 * scalar remainder loop (138 columns at TW 128 ran as 8 vectors plus 10 scalar steps per row and
 * moment). TW 128 divides 1920 and measured best (96, 112 and 144: 10-20% slower). The sums are
 * per tile row in float32, so the tile width moves them by ~1e-9.
 *
 * Where the time went before the two changes below (1080p, one core, perf by source line):
 * horizontal ~36%, vertical ~33%, masked sums ~15%, fill ~9%, formula ~8%. Two output rows per
 * vertical step load the 12 ring rows they span once (12 loads per column instead of 22):
 * 7.2-7.4 ms against 8.9-9.1 ms for one row per step, the same 24 1080p pairs, alternating
 * builds, best of 15, bit-identical sums.
 * The horizontal pass and the formula then run as one loop that never stores the four filtered
 * rows: 6.95-7.08 ms against 7.43-7.57 ms (same measurement, bit-identical sums).
 * Tried and not kept: the masked sums in the same loop (no faster), fused multiply-adds (-ffp-contract=fast: ~2% faster, sums moved by ~5e-7
 * and would depend on the compiler), 512-bit against 256-bit vectors (the same within noise on
 * this Zen 4, which splits them in two), other tile widths (above). A software prefetch of the
 * next input rows gained ~5% on an idle machine and ~12% on a loaded one (bit-identical sums),
 * since the tile order reads each row in ~200-byte pieces, a pattern the hardware prefetcher
 * follows poorly.
 *
 * ISA: the hot loops are plain C that GCC/Clang vectorise; target_clones builds AVX-512, AVX2
 * and baseline versions and picks one at load time, so the module runs on any x86-64 without
 * -march=native. The build is optional (setup.py): without a C compiler, qa/ssim.py falls back
 * to OpenCV with the same results to ~1e-6.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_buffer2d.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define R 5          /* window radius */
#define T 11         /* taps */
#define TW 128       /* output columns per tile: the ring (12 x 4 x 144 floats = 27 KB) then fits L1 (see top) */
#define VL 16       /* floats per 64-byte vector: moment rows are padded to a multiple */
#define NI ((TW + 2 * R + VL - 1) / VL * VL)
#define RING (T + 1) /* ring rows: two output rows per vertical step */
#define PF 4        /* rows prefetched ahead (2, 4 and 8 measured the same) */

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__APPLE__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef HOT
#define HOT
#endif
/* The helpers are inlined into each clone of run(), so they are compiled for its ISA and
 * called without the ifunc indirection (~130k calls per 1080p frame otherwise). */
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif
#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

static inline Py_ssize_t reflect(Py_ssize_t i, Py_ssize_t n)
{
    return i < 0 ? -i - 1 : (i >= n ? 2 * n - i - 1 : i);
}

/* Convert input columns [in0, in0 + n) of one row pair (reflected at the frame edges) into the
 * four moment rows. One function per input type, generated from one body. */
#define DEFINE_FILL(NAME, TYPE)                                                                   \
    INLINE void NAME(const TYPE *xr, const TYPE *yr, Py_ssize_t W, Py_ssize_t in0,            \
                         Py_ssize_t n, float *restrict fx, float *restrict fy,                    \
                         float *restrict fq, float *restrict fp)                                  \
    {                                                                                             \
        Py_ssize_t lo = in0 < 0 ? -in0 : 0, hi = in0 + n > W ? W - in0 : n;                       \
        const TYPE *xa = xr + in0, *ya = yr + in0;                                                \
        for (Py_ssize_t t = lo; t < hi; t++) {                                                    \
            float a = (float)xa[t], b = (float)ya[t];                                             \
            fx[t] = a; fy[t] = b; fq[t] = a * a + b * b; fp[t] = a * b;                           \
        }                                                                                         \
        /* the reflected edges: at most R columns a side, only in the first and last tile */      \
        for (Py_ssize_t t = 0; t < n; t++) {                                                      \
            if (t == lo) t = hi;                                                                  \
            if (t >= n) break;                                                                    \
            Py_ssize_t c = reflect(in0 + t, W);                                                   \
            float a = (float)xr[c], b = (float)yr[c];                                             \
            fx[t] = a; fy[t] = b; fq[t] = a * a + b * b; fp[t] = a * b;                           \
        }                                                                                         \
    }
DEFINE_FILL(fill_u8, uint8_t)
DEFINE_FILL(fill_u16, uint16_t)
DEFINE_FILL(fill_f32, float)

/* The 11-tap window over samples a0 .. a10: it is symmetric, w[k] == w[10 - k], so pairs are
 * added before multiplying (the taps w0 .. w5 must be in scope). The one definition of the
 * filter arithmetic: both passes use it, so their order of operations is the same. */
#define SYM11(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)                                        \
    (w5 * (a5) + w0 * ((a0) + (a10)) + w1 * ((a1) + (a9)) + w2 * ((a2) + (a8)) +                 \
     w3 * ((a3) + (a7)) + w4 * ((a4) + (a6)))

INLINE void vertical(const float *const *q, const float *w, Py_ssize_t n, float *restrict v)
{
    const float *restrict q0 = q[0], *restrict q1 = q[1], *restrict q2 = q[2], *restrict q3 = q[3],
                *restrict q4 = q[4], *restrict q5 = q[5], *restrict q6 = q[6], *restrict q7 = q[7],
                *restrict q8 = q[8], *restrict q9 = q[9], *restrict q10 = q[10];
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    for (Py_ssize_t t = 0; t < n; t++)
        v[t] = SYM11(q0[t], q1[t], q2[t], q3[t], q4[t], q5[t], q6[t], q7[t], q8[t], q9[t], q10[t]);
}

/* Two output rows from the 12 ring rows they span: 12 loads per column instead of 22. */
INLINE void vertical2(const float *const *q, const float *w, Py_ssize_t n, float *restrict v0,
                      float *restrict v1)
{
    const float *restrict q0 = q[0], *restrict q1 = q[1], *restrict q2 = q[2], *restrict q3 = q[3],
                *restrict q4 = q[4], *restrict q5 = q[5], *restrict q6 = q[6], *restrict q7 = q[7],
                *restrict q8 = q[8], *restrict q9 = q[9], *restrict q10 = q[10], *restrict q11 = q[11];
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    for (Py_ssize_t t = 0; t < n; t++) {
        float a0 = q0[t], a1 = q1[t], a2 = q2[t], a3 = q3[t], a4 = q4[t], a5 = q5[t], a6 = q6[t],
              a7 = q7[t], a8 = q8[t], a9 = q9[t], a10 = q10[t], a11 = q11[t];
        v0[t] = SYM11(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10);
        v1[t] = SYM11(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
    }
}

/* The horizontal pass of the four moments (SYM11, like the vertical one) and the SSIM
 * formula in one loop, without storing the four filtered rows (6% faster than two loops):
 * SSIM = (2 mx my + C1)(2 sxy + C2) / ((mx^2 + my^2 + C1)(sx^2 + sy^2 + C2)), with
 * sxy = E[xy] - mx my and sx^2 + sy^2 = E[x^2 + y^2] - mx^2 - my^2 (same order of operations as
 * the OpenCV path). */
INLINE void horizontal_formula(const float *restrict V, const float *w, Py_ssize_t n, float c1,
                               float c2, float *restrict s)
{
    const float *restrict vx = V, *restrict vy = V + NI, *restrict vq = V + 2 * NI,
                *restrict vp = V + 3 * NI;
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
#define HTAP(v, u) SYM11(v[u], v[u + 1], v[u + 2], v[u + 3], v[u + 4], v[u + 5], v[u + 6], v[u + 7], \
                         v[u + 8], v[u + 9], v[u + 10])
    for (Py_ssize_t u = 0; u < n; u++) {
        float mx = HTAP(vx, u), my = HTAP(vy, u), hq = HTAP(vq, u), hp = HTAP(vp, u);
        float t1 = mx * my, t2 = mx * mx + my * my;
        s[u] = ((2.0f * t1 + c1) * (2.0f * (hp - t1) + c2)) / ((t2 + c1) * (hq - t2 + c2));
    }
#undef HTAP
}

INLINE float masked_sum(const float *restrict s, const uint8_t *restrict m, Py_ssize_t n)
{
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (Py_ssize_t u = 0; u < n; u++) acc += s[u] * (float)m[u];
    return acc;
}

INLINE float plain_sum(const float *restrict s, Py_ssize_t n)
{
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (Py_ssize_t u = 0; u < n; u++) acc += s[u];
    return acc;
}

INLINE float masked_sq_err(const float *restrict a, const float *restrict b, const uint8_t *restrict m,
                               Py_ssize_t n)
{
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (Py_ssize_t u = 0; u < n; u++) {
        float d = a[u] - b[u];
        acc += d * d * (float)m[u];
    }
    return acc;
}

typedef enum { IN_U8, IN_U16, IN_F32 } in_kind;

typedef struct {
    const char *x, *y;      /* row 0 of each image */
    Py_ssize_t sx, sy;      /* row strides in bytes */
    Py_ssize_t H, W;
    in_kind kind;
    const float *w;         /* 11 taps */
    float c1, c2;
    const uint8_t *outm;    /* (H, W) 0/1: pixels scored outside */
    Py_ssize_t som;
    const uint8_t *inm;     /* (H, W) 0/1 region, or NULL */
    Py_ssize_t sim;
    float *smap;            /* (H, W) SSIM map out, or NULL */
    Py_ssize_t ssm;         /* in floats */
} job_t;

typedef struct { double out_sum, in_sum, full_sum, sq_err; } sums_t;

INLINE void fill_row(const job_t *j, Py_ssize_t p, Py_ssize_t in0, Py_ssize_t n, float *rs)
{
    const char *xr = j->x + p * j->sx, *yr = j->y + p * j->sy;
    float *fx = rs, *fy = rs + NI, *fq = rs + 2 * NI, *fp = rs + 3 * NI;
    switch (j->kind) {
    case IN_U8: fill_u8((const uint8_t *)xr, (const uint8_t *)yr, j->W, in0, n, fx, fy, fq, fp); break;
    case IN_U16: fill_u16((const uint16_t *)xr, (const uint16_t *)yr, j->W, in0, n, fx, fy, fq, fp); break;
    case IN_F32: fill_f32((const float *)xr, (const float *)yr, j->W, in0, n, fx, fy, fq, fp); break;
    }
}

/* Ask for the input and mask rows PF rows ahead of row r. A column tile reads a ~200-byte piece of
 * each of ~1,090 rows of a 2 MB plane, a stride the hardware prefetcher follows poorly: the loads
 * of fill and of the mask sums stalled on memory (~15% of the kernel's time on a loaded machine,
 * perf annotate). Prefetching changes no result. */
INLINE void prefetch_ahead(const job_t *j, Py_ssize_t r, Py_ssize_t in0, Py_ssize_t n, Py_ssize_t c0,
                           Py_ssize_t tw)
{
    if (r >= 0 && r < j->H) {
        Py_ssize_t isz = j->kind == IN_U8 ? 1 : (j->kind == IN_U16 ? 2 : 4);
        Py_ssize_t lo = (in0 < 0 ? 0 : in0) * isz, hi = (in0 + n > j->W ? j->W : in0 + n) * isz;
        const char *px = j->x + r * j->sx, *py = j->y + r * j->sy;
        for (Py_ssize_t b = lo; b < hi + 63; b += 64) {
            Py_ssize_t at = b < hi ? b : hi - 1;
            PREFETCH(px + at);
            PREFETCH(py + at);
        }
    }
    Py_ssize_t i = r - R; /* the output row whose masks are read then */
    if (i >= 0 && i < j->H) {
        for (Py_ssize_t b = 0; b < tw + 63; b += 64) {
            Py_ssize_t at = b < tw ? b : tw - 1;
            PREFETCH(j->outm + i * j->som + c0 + at);
            if (j->inm) PREFETCH(j->inm + i * j->sim + c0 + at);
        }
    }
}

/* Output row i of the tile at c0 from its vertical sums V (4 x NI): horizontal pass, formula,
 * masked sums. cx: this row's x samples (y follows at + NI). */
INLINE void emit_row(const job_t *j, Py_ssize_t i, Py_ssize_t c0, Py_ssize_t tw, Py_ssize_t flo,
                     Py_ssize_t fhi, const float *V, float *S, const float *cx, sums_t *a)
{
    float *srow = j->smap ? j->smap + i * j->ssm + c0 : S;
    horizontal_formula(V, j->w, tw, j->c1, j->c2, srow);
    const uint8_t *om = j->outm + i * j->som + c0;
    a->out_sum += masked_sum(srow, om, tw);
    a->sq_err += masked_sq_err(cx, cx + NI, om, tw);
    if (j->inm) a->in_sum += masked_sum(srow, j->inm + i * j->sim + c0, tw);
    if (i >= R && i < j->H - R && fhi > flo) a->full_sum += plain_sum(srow + flo, fhi - flo);
}

/* scratch: RING*4*NI (ring) + 8*NI (V, two rows) + TW (SSIM row) floats */
HOT static void run(const job_t *j, float *scratch, sums_t *res)
{
    float *ring = scratch, *V = ring + RING * 4 * NI, *S = V + 8 * NI;
    const Py_ssize_t H = j->H, W = j->W;
    sums_t a = {0, 0, 0, 0};
    for (Py_ssize_t c0 = 0; c0 < W; c0 += TW) {
        Py_ssize_t tw = W - c0 < TW ? W - c0 : TW, in0 = c0 - R, n = tw + 2 * R;
        /* the vertical pass runs over whole vectors: columns [n, nv) hold finite leftovers (zeros at
         * first), their results are never read, and no scalar remainder loop runs */
        Py_ssize_t nv = (n + VL - 1) / VL * VL;
        /* columns of this tile inside the 5-px border (skimage's crop), relative to c0 */
        Py_ssize_t flo = R - c0 > 0 ? R - c0 : 0, fhi = (W - R) - c0 < tw ? (W - R) - c0 : tw;
        for (Py_ssize_t r = -R; r < H + R; r++) {
            /* logical row r (reflected into the frame) lives in ring slot (r + R) % RING */
            fill_row(j, reflect(r, H), in0, n, ring + ((r + R) % RING) * 4 * NI);
            prefetch_ahead(j, r + PF, in0, n, c0, tw);
            /* output rows i, i + 1 need logical rows i - R .. i + 1 + R = r: they are done in pairs
             * (rows 0-1, 2-3, ...), and a last odd row alone */
            Py_ssize_t i = r - R - 1;
            int pair = i >= 0 && (i % 2) == 0, last = r == H + R - 1 && (H % 2) == 1;
            if (!pair && !last) continue;
            if (last) i = H - 1;
            for (int c = 0; c < 4; c++) {
                const float *q[RING];
                for (int k = 0; k < RING; k++) q[k] = ring + (((i + k) % RING) * 4 + c) * NI;
                if (last) vertical(q, j->w, nv, V + c * NI);
                else vertical2(q, j->w, nv, V + c * NI, V + (4 + c) * NI);
            }
            emit_row(j, i, c0, tw, flo, fhi, V, S, ring + ((i + R) % RING) * 4 * NI + R, &a);
            if (!last)
                emit_row(j, i + 1, c0, tw, flo, fhi, V + 4 * NI, S,
                         ring + ((i + 1 + R) % RING) * 4 * NI + R, &a);
        }
    }
    *res = a;
}

/* ------------------------------------------------------------------------- Python binding */

static char fmt_char(const Py_buffer *v)
{
    const char *f = v->format ? v->format : "B";
    if (*f == '<' || *f == '=' || *f == '@') f++;
    return *f;
}

PyDoc_STRVAR(frame_sums_doc,
"frame_sums(x, y, taps, c1, c2, outside, region, ssim_map) -> (out_sum, in_sum, full_sum, sq_err)\n\n"
"SSIM sums of one frame pair (see qa.ssim.SSIMKernel.frame). x, y: (H, W) uint8, uint16 or\n"
"float32 with contiguous rows, same dtype; taps: 11 float32; outside: (H, W) uint8 0/1 of the\n"
"scored pixels; region: (H, W) uint8 0/1 or None; ssim_map: (H, W) float32 written, or None.\n"
"Releases the GIL.");

static PyObject *frame_sums(PyObject *self, PyObject *args)
{
    PyObject *ox, *oy, *ow, *oout, *oin, *omap;
    float c1, c2;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOffOOO:frame_sums", &ox, &oy, &ow, &c1, &c2, &oout, &oin, &omap))
        return NULL;
    Py_buffer bx = {0}, by = {0}, bw = {0}, bo = {0}, bi = {0}, bm = {0};
    int have_in = oin != Py_None, have_map = omap != Py_None;
    PyObject *result = NULL;
    if (get_2d(ox, &bx, "x", -1, -1, -1, 0) < 0) return NULL;
    Py_ssize_t H = bx.shape[0], W = bx.shape[1];
    if (get_2d(oy, &by, "y", H, W, -1, 0) < 0) goto out_x;
    if (PyObject_GetBuffer(ow, &bw, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto out_y;
    if (get_2d(oout, &bo, "outside", H, W, -1, 0) < 0) goto out_w;
    if (have_in && get_2d(oin, &bi, "region", H, W, -1, 0) < 0) goto out_o;
    if (have_map && get_2d(omap, &bm, "ssim_map", H, W, -1, 1) < 0) goto out_i;

    job_t j = {0};
    char fx = fmt_char(&bx), fy = fmt_char(&by);
    if (fx != fy || bx.itemsize != by.itemsize) {
        PyErr_SetString(PyExc_ValueError, "x and y must have the same dtype");
        goto out_m;
    }
    if (fx == 'B' && bx.itemsize == 1) j.kind = IN_U8;
    else if (fx == 'H' && bx.itemsize == 2) j.kind = IN_U16;
    else if (fx == 'f' && bx.itemsize == 4) j.kind = IN_F32;
    else {
        PyErr_SetString(PyExc_TypeError, "x and y must be uint8, uint16 or float32");
        goto out_m;
    }
    if (fmt_char(&bw) != 'f' || bw.len != T * (Py_ssize_t)sizeof(float)) {
        PyErr_SetString(PyExc_ValueError, "taps must be 11 float32 values");
        goto out_m;
    }
    if (fmt_char(&bo) != 'B' || bo.itemsize != 1 || (have_in && (fmt_char(&bi) != 'B' || bi.itemsize != 1))) {
        PyErr_SetString(PyExc_TypeError, "outside and region must be uint8");
        goto out_m;
    }
    if (have_map && (fmt_char(&bm) != 'f' || bm.itemsize != 4 || bm.strides[0] % 4)) {
        PyErr_SetString(PyExc_TypeError, "ssim_map must be float32");
        goto out_m;
    }
    if (H < T || W < T) {
        PyErr_Format(PyExc_ValueError, "frames must be at least 11x11 px, got %zdx%zd", W, H);
        goto out_m;
    }
    j.x = bx.buf; j.y = by.buf; j.sx = bx.strides[0]; j.sy = by.strides[0];
    j.H = H; j.W = W; j.w = bw.buf; j.c1 = c1; j.c2 = c2;
    j.outm = bo.buf; j.som = bo.strides[0];
    j.inm = have_in ? bi.buf : NULL; j.sim = have_in ? bi.strides[0] : 0;
    j.smap = have_map ? bm.buf : NULL; j.ssm = have_map ? bm.strides[0] / 4 : 0;

    float *scratch = calloc(RING * 4 * NI + 8 * NI + TW, sizeof(float));
    if (!scratch) {
        PyErr_NoMemory();
        goto out_m;
    }
    sums_t s;
    Py_BEGIN_ALLOW_THREADS
    run(&j, scratch, &s);
    Py_END_ALLOW_THREADS
    free(scratch);
    result = Py_BuildValue("dddd", s.out_sum, s.in_sum, s.full_sum, s.sq_err);
out_m:
    if (have_map) PyBuffer_Release(&bm);
out_i:
    if (have_in) PyBuffer_Release(&bi);
out_o:
    PyBuffer_Release(&bo);
out_w:
    PyBuffer_Release(&bw);
out_y:
    PyBuffer_Release(&by);
out_x:
    PyBuffer_Release(&bx);
    return result;
}


/* ---------------------------------------------------------------- Wang's downsampling
 * block_mean(img, factor, out): out[i][j] = mean of the factor x factor block of img whose first
 * row/column is i*factor - lead, j*factor - lead (lead = (factor - 1) // 2), BORDER_REFLECT
 * outside the image: exactly qa.ssim.wang_downsample. Integer sums (exact), then
 * (float)sum * (1.0f / (factor * factor)) as OpenCV's area resampling does on float32, so the
 * result is bit-identical to the Python path, in one pass over the input without a float copy.
 */
static inline Py_ssize_t reflect_index(Py_ssize_t i, Py_ssize_t n)
{
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
}

/* Column sums of the f rows of output row oy (reflected at the edges) into col. 8-bit rows sum
 * into uint16 (f * 255 <= 4080 for f <= 16): half the column traffic of uint32, the same sums. */
#define DEFINE_COLSUM(NAME, TYPE, CTYPE)                                                          \
    INLINE void NAME(const char *src, Py_ssize_t stride, Py_ssize_t H, Py_ssize_t W, int f, int lead,  \
                     Py_ssize_t oy, CTYPE *restrict col)                                           \
    {                                                                                             \
        const TYPE *restrict r0 = (const TYPE *)(src + reflect_index(oy * f - lead, H) * stride);  \
        for (Py_ssize_t x = 0; x < W; x++) col[x] = r0[x];                                        \
        for (int k = 1; k < f; k++) {                                                             \
            const TYPE *restrict r = (const TYPE *)(src + reflect_index(oy * f - lead + k, H) * stride); \
            for (Py_ssize_t x = 0; x < W; x++) col[x] = (CTYPE)(col[x] + r[x]);                   \
        }                                                                                         \
    }
DEFINE_COLSUM(colsum_u8, uint8_t, uint16_t)
DEFINE_COLSUM(colsum_u16, uint16_t, uint32_t)

/* Block sums of one output row from the column sums; F is a compile-time constant in the common
 * cases so the k loop unrolls. Blocks reaching past the left or right edge reflect. */
#define DEFINE_ROWSUM(NAME, CTYPE)                                                                \
    INLINE void NAME(const CTYPE *restrict col, Py_ssize_t W, int F, int lead, float scale,       \
                     float *restrict o, Py_ssize_t OW)                                             \
    {                                                                                             \
        /* blocks [lo, hi) lie inside the row: ox * F - lead >= 0 and ox * F - lead + F <= W */   \
        Py_ssize_t lo = (lead + F - 1) / F, hi = (W + lead) / F;                                  \
        if (hi > OW) hi = OW;                                                                     \
        if (lo > hi) lo = hi;                                                                     \
        for (Py_ssize_t ox = lo; ox < hi; ox++) {                                                 \
            const CTYPE *c = col + ox * F - lead;                                                 \
            uint32_t sum = 0;                                                                     \
            for (int k = 0; k < F; k++) sum += c[k];                                              \
            o[ox] = (float)sum * scale;                                                           \
        }                                                                                         \
        for (int side = 0; side < 2; side++) { /* the edge blocks, [0, lo) and [hi, OW) */        \
            for (Py_ssize_t ox = side ? hi : 0; ox < (side ? OW : lo); ox++) {                    \
                uint32_t sum = 0;                                                                 \
                for (int k = 0; k < F; k++) sum += col[reflect_index(ox * F - lead + k, W)];      \
                o[ox] = (float)sum * scale;                                                       \
            }                                                                                     \
        }                                                                                         \
    }
DEFINE_ROWSUM(rowsum16, uint16_t)
DEFINE_ROWSUM(rowsum32, uint32_t)

/* rowsum with the common factors as constants (the block loop unrolls). */
#define ROWSUM_BY_FACTOR(FN, col)                                                                 \
    switch (f) {                                                                                  \
    case 2: FN(col, W, 2, lead, scale, o, OW); break;                                             \
    case 3: FN(col, W, 3, lead, scale, o, OW); break;                                             \
    case 4: FN(col, W, 4, lead, scale, o, OW); break;                                             \
    case 5: FN(col, W, 5, lead, scale, o, OW); break;                                             \
    case 6: FN(col, W, 6, lead, scale, o, OW); break;                                             \
    case 8: FN(col, W, 8, lead, scale, o, OW); break;                                             \
    default: FN(col, W, f, lead, scale, o, OW); break;                                            \
    }

HOT static void block_mean_run(const char *src, Py_ssize_t stride, int is16, Py_ssize_t H, Py_ssize_t W, int f,
                               float *out, Py_ssize_t ostride, Py_ssize_t OH, Py_ssize_t OW, uint32_t *col)
{
    const int lead = (f - 1) / 2;
    const float scale = 1.0f / (float)(f * f);
    uint16_t *col16 = (uint16_t *)col;
    for (Py_ssize_t oy = 0; oy < OH; oy++) {
        float *o = (float *)((char *)out + oy * ostride);
        if (is16) {
            colsum_u16(src, stride, H, W, f, lead, oy, col);
            ROWSUM_BY_FACTOR(rowsum32, col)
        } else {
            colsum_u8(src, stride, H, W, f, lead, oy, col16);
            ROWSUM_BY_FACTOR(rowsum16, col16)
        }
    }
}

PyDoc_STRVAR(block_mean_doc,
"block_mean(img, factor, out) -> None\n\n"
"Wang's average-and-subsample of qa.ssim.wang_downsample for uint8/uint16 img (H, W) with\n"
"contiguous rows into float32 out (ceil(H/f), ceil(W/f)); factor 2..16. Releases the GIL.");

static PyObject *block_mean(PyObject *self, PyObject *args)
{
    PyObject *oimg, *oout;
    int f;
    (void)self;
    if (!PyArg_ParseTuple(args, "OiO:block_mean", &oimg, &f, &oout)) return NULL;
    if (f < 2 || f > 16) {
        PyErr_Format(PyExc_ValueError, "factor must be 2..16, got %d", f);
        return NULL;
    }
    Py_buffer bi = {0}, bo = {0};
    if (get_2d(oimg, &bi, "img", -1, -1, -1, 0) < 0) return NULL;
    Py_ssize_t H = bi.shape[0], W = bi.shape[1], OH = (H + f - 1) / f, OW = (W + f - 1) / f;
    if (get_2d(oout, &bo, "out", OH, OW, -1, 1) < 0) {
        PyBuffer_Release(&bi);
        return NULL;
    }
    char fi = fmt_char(&bi);
    int is16 = fi == 'H' && bi.itemsize == 2;
    PyObject *result = NULL;
    if (!(is16 || (fi == 'B' && bi.itemsize == 1)) || fmt_char(&bo) != 'f' || bo.itemsize != 4) {
        PyErr_SetString(PyExc_TypeError, "img must be uint8 or uint16 and out float32");
        goto done;
    }
    uint32_t *col = malloc(sizeof(uint32_t) * (size_t)W);
    if (!col) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    block_mean_run(bi.buf, bi.strides[0], is16, H, W, f, bo.buf, bo.strides[0], OH, OW, col);
    Py_END_ALLOW_THREADS
    free(col);
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&bo);
    PyBuffer_Release(&bi);
    return result;
}

static PyMethodDef methods[] = {
    {"frame_sums", frame_sums, METH_VARARGS, frame_sums_doc},
    {"block_mean", block_mean, METH_VARARGS, block_mean_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "qa._ssimkernel",
    "Fused SSIM kernel for qa.ssim (optional; qa.ssim falls back to OpenCV without it).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__ssimkernel(void) { return PyModule_Create(&module); }
