/*
 * The buffer checks of the C kernels' 2-D array arguments, shared by preflight/media/_areakernel.c
 * and qa/_ssimkernel.c (setup.py puts this folder on the include path of both).
 */
#ifndef PREFLIGHT_BUFFER2D_H
#define PREFLIGHT_BUFFER2D_H

#include <Python.h>

/* Fill `view` with a 2-D buffer with contiguous rows of (h, w) items (h, w < 0: any size) of
 * `itemsize` bytes (< 0: any); a ValueError naming the argument otherwise. */
static int get_2d(PyObject *obj, Py_buffer *view, const char *name, Py_ssize_t h, Py_ssize_t w,
                  Py_ssize_t itemsize, int writable)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (view->ndim != 2 || view->strides[1] != view->itemsize || view->strides[0] < 0 ||
        (itemsize >= 0 && view->itemsize != itemsize)) {
        if (itemsize >= 0)
            PyErr_Format(PyExc_ValueError, "%s must be a 2-D array of %zd-byte items with contiguous rows",
                         name, itemsize);
        else
            PyErr_Format(PyExc_ValueError, "%s must be a 2-D array with contiguous rows", name);
        PyBuffer_Release(view);
        return -1;
    }
    if ((h >= 0 && view->shape[0] != h) || (w >= 0 && view->shape[1] != w)) {
        PyErr_Format(PyExc_ValueError, "%s is %zdx%zd, expected %zdx%zd", name, view->shape[1],
                     view->shape[0], w, h);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

#endif
