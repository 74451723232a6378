/*
 * preflight.media._areakernel: the last steps of decode.area_downscale as one pass.
 *
 * halve_block_sums(img, factor, out): out[i][j] = the sum over the factor x factor block (i, j)
 * of the 2x-halved image h, where h[y][x] = (img[2y][2x] + img[2y][2x+1] + img[2y+1][2x] +
 * img[2y+1][2x+1] + 2) >> 2 is OpenCV's INTER_AREA result for an exact 2x shrink of uint8. Those
 * are the block sums decode._block_mean_u8 makes from cv2.resize's last halving; the caller scales
 * them with the same cv2.convertScaleAbs, so the analysis frame is byte-identical.
 *
 * Why C: for 1080p -> 320x180, cv2.resize's halving writes a 960x540 image that numpy then reads
 * back three times for the block sums (uint8 -> uint16 casts and strided adds). Here each source
 * row pair is halved straight into a column-sum row that stays in L1. The pass is bound by
 * reading the 2 MB luma plane, so the gain is the intermediate image: ~0.1 ms of ~0.5 ms per
 * 1080p frame inside `preflight check`'s decode loop (benchmarks/bench_decode_scale.py).
 *
 * Integer arithmetic only: exact on any compiler and ISA. Pairs of source pixels are read as one
 * 16-bit word and split with a mask and a shift (either byte order: only their sum matters), so
 * the loads are contiguous and GCC/Clang vectorise the loop. The build is optional (setup.py);
 * without it decode.py keeps the OpenCV + numpy path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_buffer2d.h"
#include <stdint.h>
#include <stdlib.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__APPLE__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef HOT
#define HOT
#endif

#if defined(__GNUC__)
typedef uint16_t u16_unaligned __attribute__((aligned(1), may_alias));
#define LOAD_PAIR(p, x) (((const u16_unaligned *)(p))[x])
#else
#define LOAD_PAIR(p, x) ((uint16_t)((p)[2 * (x)] | ((p)[2 * (x) + 1] << 8)))
#endif

/* Add the halved pixels of source rows r0, r1 (2 * hw bytes each) to col (hw entries); col has
 * hw more entries of scratch after them. The pair sums of r0 (plus the rounding 2) go there first,
 * then r1's are added: one source row streamed at a time, which the hardware prefetcher follows
 * better than two rows read side by side (150 decoded 1080p frames held in memory, best of 21
 * alternating runs on a loaded 2-core machine: 0.23 against 0.37 ms per frame). Same sums, since
 * (a + b + 2) + c + d <= 1022. */
static inline void add_halved_rows(const uint8_t *restrict r0, const uint8_t *restrict r1, Py_ssize_t hw,
                                   uint16_t *restrict col)
{
    uint16_t *restrict t = col + hw;
    for (Py_ssize_t x = 0; x < hw; x++) {
        uint16_t p = LOAD_PAIR(r0, x);
        t[x] = (uint16_t)((p & 0xFF) + (p >> 8) + 2);
    }
    for (Py_ssize_t x = 0; x < hw; x++) {
        uint16_t q = LOAD_PAIR(r1, x);
        col[x] = (uint16_t)(col[x] + ((t[x] + (q & 0xFF) + (q >> 8)) >> 2));
    }
}

HOT static void halve_block_run(const uint8_t *src, Py_ssize_t stride, Py_ssize_t hw, int f, uint16_t *out,
                                Py_ssize_t ostride, Py_ssize_t OH, Py_ssize_t OW, uint16_t *col)
{
    for (Py_ssize_t oy = 0; oy < OH; oy++) {
        for (Py_ssize_t x = 0; x < hw; x++) col[x] = 0;
        for (int k = 0; k < f; k++) {
            const uint8_t *r0 = src + 2 * (oy * f + k) * stride;
            add_halved_rows(r0, r0 + stride, hw, col);
        }
        uint16_t *o = (uint16_t *)((char *)out + oy * ostride);
        for (Py_ssize_t ox = 0; ox < OW; ox++) {
            const uint16_t *c = col + ox * f;
            unsigned sum = 0;
            for (int k = 0; k < f; k++) sum += c[k];
            o[ox] = (uint16_t)sum; /* <= 255 * 16 * 16 */
        }
    }
}

PyDoc_STRVAR(halve_block_sums_doc,
"halve_block_sums(img, factor, out) -> None\n\n"
"Sums of factor x factor blocks (factor 1..16) of the exact 2x area halving of uint8 img (H, W)\n"
"into uint16 out (H / (2 factor), W / (2 factor)); rows must be contiguous and H, W exact\n"
"multiples of 2 factor. Releases the GIL.");

static PyObject *halve_block_sums(PyObject *self, PyObject *args)
{
    PyObject *oimg, *oout;
    int f;
    (void)self;
    if (!PyArg_ParseTuple(args, "OiO:halve_block_sums", &oimg, &f, &oout)) return NULL;
    if (f < 1 || f > 16) {
        PyErr_Format(PyExc_ValueError, "factor must be 1..16, got %d", f);
        return NULL;
    }
    Py_buffer bi = {0}, bo = {0};
    if (get_2d(oimg, &bi, "img", -1, -1, 1, 0) < 0) return NULL;
    if (get_2d(oout, &bo, "out", -1, -1, 2, 1) < 0) {
        PyBuffer_Release(&bi);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t H = bi.shape[0], W = bi.shape[1], OH = bo.shape[0], OW = bo.shape[1];
    if (H != 2 * f * OH || W != 2 * f * OW) {
        PyErr_Format(PyExc_ValueError, "img is %zdx%zd, expected out %zdx%zd times 2 x %d", W, H, OW, OH, f);
        goto done;
    }
    uint16_t *col = malloc(sizeof(uint16_t) * (size_t)(W + 2)); /* col and its scratch row */
    if (!col) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    halve_block_run(bi.buf, bi.strides[0], W / 2, f, bo.buf, bo.strides[0], OH, OW, col);
    Py_END_ALLOW_THREADS
    free(col);
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&bo);
    PyBuffer_Release(&bi);
    return result;
}

static PyMethodDef methods[] = {
    {"halve_block_sums", halve_block_sums, METH_VARARGS, halve_block_sums_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "preflight.media._areakernel",
    "Fused 2x halving and block sums for preflight.media.decode (optional; decode.py falls back to "
    "OpenCV + numpy without it).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__areakernel(void) { return PyModule_Create(&module); }
