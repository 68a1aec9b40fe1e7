/* obsvty._native: OTLP export requests decoded into Arrow columns in C, with the GIL released.
 *
 * decode_traces(payload) -> (holder, address, rejected, first_error, start_min, start_max), or a
 * str saying why the request is left to the reference decoder (obsvty.adapters.otlp.to_domain).
 * `address` is that of an ArrowArray (a struct array, one child per column of the store's
 * schema) for pyarrow.RecordBatch._import_from_c; `holder` owns its memory until then. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "traces.h"

static const char HOLDER[] = "obsvty._native.ArrowArray";

static void holder_free(PyObject *capsule) {
    struct ArrowArray *a = PyCapsule_GetPointer(capsule, HOLDER);
    if (a == NULL)
        return;
    if (a->release != NULL)
        a->release(a);
    free(a);
}

static PyObject *fallback(int rc) {
    return PyUnicode_FromString(rc == NOMEM ? "out of memory" : "left to the reference decoder");
}

static PyObject *decode_traces(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    traces_t *t = malloc(sizeof(traces_t));
    struct ArrowArray *out = calloc(1, sizeof(struct ArrowArray));
    int rc = (t == NULL || out == NULL) ? NOMEM : OK;
    Py_BEGIN_ALLOW_THREADS
    if (rc == OK)
        rc = traces_init(t);
    if (rc == OK)
        rc = traces_decode(t, view.buf, (size_t)view.len);
    if (rc == OK)
        rc = traces_export(t, out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc != OK) {
        if (t != NULL)
            traces_free(t);
        free(t);
        free(out);
        if (rc == NOMEM)
            return PyErr_NoMemory();
        return fallback(rc);
    }
    PyObject *holder = PyCapsule_New(out, HOLDER, holder_free);
    if (holder == NULL) {
        out->release(out);
        free(out);
        traces_free(t);
        free(t);
        return NULL;
    }
    PyObject *result = Py_BuildValue(
        "(NKLs#LL)", holder, (unsigned long long)(uintptr_t)out, (long long)t->shared.rejected,
        t->shared.first_error, (Py_ssize_t)strlen(t->shared.first_error),
        (long long)t->start_min, (long long)t->start_max);
    traces_free(t);
    free(t);
    return result;
}

static PyMethodDef METHODS[] = {
    {"decode_traces", decode_traces, METH_O,
     "ExportTraceServiceRequest bytes -> Arrow span columns (see the module docstring)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "obsvty._native",
    "OTLP export requests decoded into Arrow columns in C (see obsvty.adapters.otlp.native).", -1,
    METHODS,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&MODULE); }
