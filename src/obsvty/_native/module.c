/* obsvty._native: OTLP export requests decoded into Arrow columns in C, with the GIL released.
 *
 * decode_traces(payload[, document_form]), decode_logs(...), decode_metrics(...) ->
 * (holder, address, rejected, first_error); decode_traces_json(...), decode_logs_json(...),
 * decode_metrics_json(...): the same for OTLP/JSON (transcoded to protobuf first, see
 * otlp_json.h); document_form true: the JSON columns in the document form (typed_json.h); or,
 * from any, a str saying why the request is left to the reference decoder
 * (obsvty.adapters.otlp.to_domain). `address` is that of an ArrowArray (a struct array, one child
 * per column of the store's schema) for pyarrow.RecordBatch._import_from_c; `holder` owns its
 * memory until then. SpanKeys: the keys of the spans the DuckDB store committed last
 * (span_keys.h). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>

#include "logs.h"
#include "metrics.h"
#include "otlp_json.h"
#include "span_keys.h"
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

/* One signal's decoder: its state (`size` bytes, holding a shared_t at `shared`) and the
 * functions that run on it without the GIL. */
typedef struct {
    size_t size, shared;
    int (*init)(void *);
    int (*decode)(void *, const uint8_t *, size_t);
    int (*export_rows)(void *, struct ArrowArray *);
    void (*release)(void *);
} signal_t;

/* `json`: the payload is OTLP/JSON of that request message, transcoded to protobuf first */
static PyObject *decode_signal(const signal_t *sig, PyObject *args, const msgdef_t *json) {
    PyObject *arg;
    int documents = 0;
    if (!PyArg_ParseTuple(args, "O|p", &arg, &documents))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    void *state = calloc(1, sig->size); /* zeroed: safe to release at any step */
    struct ArrowArray *out = calloc(1, sizeof(struct ArrowArray));
    int rc = (state == NULL || out == NULL) ? NOMEM : OK;
    Py_BEGIN_ALLOW_THREADS
    buf_t wire = {0};
    document_form = documents;
    const uint8_t *bytes = view.buf;
    size_t len = (size_t)view.len;
    if (rc == OK && json != NULL) {
        rc = json_to_wire(bytes, len, json, &wire);
        bytes = wire.data;
        len = wire.len;
    }
    if (rc == OK)
        rc = sig->init(state);
    if (rc == OK)
        rc = sig->decode(state, bytes, len);
    if (rc == OK)
        rc = sig->export_rows(state, out);
    buf_free(&wire);
    document_form = 0;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc != OK) {
        if (state != NULL)
            sig->release(state);
        free(state);
        free(out);
        if (rc == NOMEM)
            return PyErr_NoMemory();
        return fallback(rc);
    }
    PyObject *holder = PyCapsule_New(out, HOLDER, holder_free);
    if (holder == NULL) {
        out->release(out);
        free(out);
        sig->release(state);
        free(state);
        return NULL;
    }
    const shared_t *sh = (const shared_t *)((const char *)state + sig->shared);
    PyObject *result = Py_BuildValue("(NKLs#)", holder, (unsigned long long)(uintptr_t)out,
                                     (long long)sh->rejected, sh->first_error,
                                     (Py_ssize_t)strlen(sh->first_error));
    sig->release(state);
    free(state);
    return result;
}

/* the signals' functions on an untyped state */
#define SIGNAL_OPS(name, type)                                                                   \
    static int name##_init_op(void *s) { return name##_init((type *)s); }                       \
    static int name##_decode_op(void *s, const uint8_t *p, size_t n) {                           \
        return name##_decode((type *)s, p, n);                                                   \
    }                                                                                            \
    static int name##_export_op(void *s, struct ArrowArray *out) {                               \
        return name##_export((type *)s, out);                                                    \
    }                                                                                            \
    static void name##_free_op(void *s) { name##_free((type *)s); }

SIGNAL_OPS(traces, traces_t)
SIGNAL_OPS(logs, logs_t)
SIGNAL_OPS(metrics, metrics_t)

static const signal_t TRACES = {sizeof(traces_t), offsetof(traces_t, shared), traces_init_op,
                                traces_decode_op, traces_export_op, traces_free_op};
static const signal_t LOGS = {sizeof(logs_t), offsetof(logs_t, shared), logs_init_op,
                              logs_decode_op, logs_export_op, logs_free_op};
static const signal_t METRICS = {sizeof(metrics_t), offsetof(metrics_t, shared), metrics_init_op,
                                 metrics_decode_op, metrics_export_op, metrics_free_op};

static PyObject *decode_traces(PyObject *self, PyObject *arg) {
    (void)self;
    return decode_signal(&TRACES, arg, NULL);
}

static PyObject *decode_traces_json(PyObject *self, PyObject *arg) {
    (void)self;
    return decode_signal(&TRACES, arg, &TRACE_REQUEST_DEF);
}

static PyObject *decode_logs(PyObject *self, PyObject *arg) {
    (void)self;
    return decode_signal(&LOGS, arg, NULL);
}

static PyObject *decode_logs_json(PyObject *self, PyObject *arg) {
    (void)self;
    return decode_signal(&LOGS, arg, &LOGS_REQUEST_DEF);
}

static PyObject *decode_metrics(PyObject *self, PyObject *arg) {
    (void)self;
    return decode_signal(&METRICS, arg, NULL);
}

static PyObject *decode_metrics_json(PyObject *self, PyObject *arg) {
    (void)self;
    return decode_signal(&METRICS, arg, &METRICS_REQUEST_DEF);
}

static PyMethodDef METHODS[] = {
    {"decode_traces", decode_traces, METH_VARARGS,
     "ExportTraceServiceRequest bytes -> Arrow span columns (see the module docstring)."},
    {"decode_traces_json", decode_traces_json, METH_VARARGS,
     "ExportTraceServiceRequest OTLP/JSON bytes -> Arrow span columns (see the module docstring)."},
    {"decode_logs", decode_logs, METH_VARARGS,
     "ExportLogsServiceRequest bytes -> Arrow log record columns (see the module docstring)."},
    {"decode_logs_json", decode_logs_json, METH_VARARGS,
     "ExportLogsServiceRequest OTLP/JSON bytes -> Arrow log record columns."},
    {"decode_metrics", decode_metrics, METH_VARARGS,
     "ExportMetricsServiceRequest bytes -> Arrow metric point columns (see the module docstring)."},
    {"decode_metrics_json", decode_metrics_json, METH_VARARGS,
     "ExportMetricsServiceRequest OTLP/JSON bytes -> Arrow metric point columns."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "obsvty._native",
    "OTLP export requests decoded into Arrow columns in C (see obsvty.adapters.otlp.native).", -1,
    METHODS, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *module = PyModule_Create(&MODULE);
    if (module == NULL)
        return NULL;
    if (PyType_Ready(&SpanKeysType) < 0 ||
        PyModule_AddObjectRef(module, "SpanKeys", (PyObject *)&SpanKeysType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
