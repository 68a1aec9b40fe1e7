/* obsvty._native: OTLP export requests decoded into Arrow columns in C, with the GIL released.
 *
 * decode_traces(payload) and decode_traces_json(payload) answer
 * (holder, address, rejected, first_error, start_min, start_max), decode_metrics(payload) and
 * decode_metrics_json(payload) (holder, address, rejected, first_error); or a str saying why the
 * request is left to the reference decoder (obsvty.adapters.otlp.to_domain). `address` is that of an
 * ArrowArray (a struct array, one child per column of the store's schema) for
 * pyarrow.RecordBatch._import_from_c; `holder` owns its memory until then. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "metrics.h"
#include "otlp_json.h"
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

/* the request's bytes (protobuf, or OTLP/JSON transcoded to protobuf) into spans */
static int traces_run(traces_t *t, const uint8_t *p, size_t n, int json, struct ArrowArray *out) {
    int rc = traces_init(t);
    if (rc == OK && json) {
        buf_t wire = {0};
        rc = json_to_wire(p, n, &TRACE_REQUEST_DEF, &wire);
        if (rc == OK)
            rc = traces_decode(t, wire.data, wire.len);
        buf_free(&wire);
    } else if (rc == OK) {
        rc = traces_decode(t, p, n);
    }
    if (rc == OK)
        rc = traces_export(t, out);
    return rc;
}

static PyObject *decode(PyObject *arg, int json) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    traces_t *t = calloc(1, sizeof(traces_t)); /* zeroed: safe to free at any step */
    struct ArrowArray *out = calloc(1, sizeof(struct ArrowArray));
    int rc = (t == NULL || out == NULL) ? NOMEM : OK;
    Py_BEGIN_ALLOW_THREADS
    if (rc == OK)
        rc = traces_run(t, view.buf, (size_t)view.len, json, out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc != OK) {
        if (t != NULL)
            traces_free(t);
        free(t);
        free(out);
        if (rc == NOMEM)
            return PyErr_NoMemory();
        return PyUnicode_FromString("left to the reference decoder");
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

static PyObject *decode_traces(PyObject *self, PyObject *arg) {
    (void)self;
    return decode(arg, 0);
}

static PyObject *decode_traces_json(PyObject *self, PyObject *arg) {
    (void)self;
    return decode(arg, 1);
}

/* ---- metrics */

static int metrics_run(metrics_t *m, const uint8_t *p, size_t n, int json, struct ArrowArray *out) {
    int rc = metrics_init(m);
    if (rc == OK && json) {
        buf_t wire = {0};
        rc = json_to_wire(p, n, &METRICS_REQUEST_DEF, &wire);
        if (rc == OK)
            rc = metrics_decode(m, wire.data, wire.len);
        buf_free(&wire);
    } else if (rc == OK) {
        rc = metrics_decode(m, p, n);
    }
    if (rc == OK)
        rc = metrics_export(m, out);
    return rc;
}

static PyObject *decode_metrics_request(PyObject *arg, int json) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    metrics_t *m = calloc(1, sizeof(metrics_t)); /* zeroed: safe to free at any step */
    struct ArrowArray *out = calloc(1, sizeof(struct ArrowArray));
    int rc = (m == NULL || out == NULL) ? NOMEM : OK;
    Py_BEGIN_ALLOW_THREADS
    if (rc == OK)
        rc = metrics_run(m, view.buf, (size_t)view.len, json, out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc != OK) {
        if (m != NULL)
            metrics_free(m);
        free(m);
        free(out);
        if (rc == NOMEM)
            return PyErr_NoMemory();
        return PyUnicode_FromString("left to the reference decoder");
    }
    PyObject *holder = PyCapsule_New(out, HOLDER, holder_free);
    if (holder == NULL) {
        out->release(out);
        free(out);
        metrics_free(m);
        free(m);
        return NULL;
    }
    PyObject *result = Py_BuildValue(
        "(NKLs#)", holder, (unsigned long long)(uintptr_t)out, (long long)m->shared.rejected,
        m->shared.first_error, (Py_ssize_t)strlen(m->shared.first_error));
    metrics_free(m);
    free(m);
    return result;
}

static PyObject *decode_metrics(PyObject *self, PyObject *arg) {
    (void)self;
    return decode_metrics_request(arg, 0);
}

static PyObject *decode_metrics_json(PyObject *self, PyObject *arg) {
    (void)self;
    return decode_metrics_request(arg, 1);
}

static PyMethodDef METHODS[] = {
    {"decode_traces", decode_traces, METH_O,
     "ExportTraceServiceRequest protobuf bytes -> Arrow span columns (see the module doc)."},
    {"decode_traces_json", decode_traces_json, METH_O,
     "ExportTraceServiceRequest OTLP/JSON bytes -> Arrow span columns (see the module doc)."},
    {"decode_metrics", decode_metrics, METH_O,
     "ExportMetricsServiceRequest protobuf bytes -> Arrow metric point columns (see the module doc)."},
    {"decode_metrics_json", decode_metrics_json, METH_O,
     "ExportMetricsServiceRequest OTLP/JSON bytes -> Arrow metric point columns (see the module doc)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT,
    .m_name = "obsvty._native",
    .m_doc = "OTLP export requests decoded into Arrow columns in C (see obsvty.adapters.otlp.native).",
    .m_size = -1,
    .m_methods = METHODS,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&MODULE); }
