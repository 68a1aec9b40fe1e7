/* SpanKeys: the (trace_id, span_id) keys of the spans the DuckDB store committed last, so that a
 * write can drop the spans it already holds without looking at the stored rows.
 *
 * A key is the 24 raw bytes of the two ids (16 + 8), compared whole: no collision of hashes can
 * ever make a new span look stored. The keys live in a ring of `capacity` entries (the oldest
 * leave when it is full) and are found through an open-addressing table of 64-bit slots
 * (linear probing, at most half full, deletion by backward shift, no tombstones): slot =
 * (32 bits of the key's hash) << 32 | (ring position + 1), 0 = empty. The hash is SipHash-1-3
 * keyed with random bytes from the caller, so ids chosen by a client cannot pile up in a probe.
 *
 * Two steps, so that a failed write registers nothing: stage() looks at one Arrow record batch's
 * string columns of hex ids (trace_id, span_id), answers which rows are new (neither in the
 * set nor earlier among the staged rows) as an Arrow boolean bitmap, and keeps the new keys aside;
 * commit() makes the staged keys members (after the transaction committed), discard() forgets
 * them. A row whose ids are not 32 and 16 lower-case hex characters (or null) is "odd": neither
 * kept nor dropped here, flagged in a second bitmap for the caller to handle. Every offset is
 * checked against its buffer. stage() and commit() work on plain memory without the GIL (a
 * large write's lookups would otherwise stall the receivers' event loop); a busy flag, set and
 * cleared with the GIL held, refuses a second caller meanwhile (the store's lock already
 * serialises its callers, so none is expected), and the object needs no lock of its own.
 *
 * Longer than the project's ~450-line bound on purpose: the set, its SipHash and the Arrow
 * buffer checks are one unit whose invariants (staged vs member keys, ring vs table) read together.
 */
#ifndef OBSVTY_SPAN_KEYS_H
#define OBSVTY_SPAN_KEYS_H

#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SK_TRACE_HEX 32
#define SK_SPAN_HEX 16
#define SK_KEY 24
#define SK_MAX_CAPACITY ((Py_ssize_t)1 << 30)
#define SK_GROUP 16 /* rows whose table slots are prefetched together */

#if defined(__GNUC__) || defined(__clang__)
#define SK_PREFETCH(p) __builtin_prefetch(p)
#else
#define SK_PREFETCH(p) ((void)(p))
#endif

typedef struct {
    uint8_t b[SK_KEY];
} skey_t;

typedef struct {
    uint64_t *slots;
    uint64_t mask; /* slots - 1, a power of two minus one */
} sk_table_t;

typedef struct {
    PyObject_HEAD
    uint64_t k0, k1;          /* SipHash key */
    skey_t *ring;             /* members, oldest at `head` once full */
    Py_ssize_t capacity, head, count;
    sk_table_t members;       /* slot index part: ring position + 1 */
    skey_t *staged;           /* new keys of the current write, in order */
    uint32_t *staged_hash;
    Py_ssize_t staged_n, staged_cap;
    sk_table_t pending;       /* slot index part: staged position + 1 */
    int busy;                 /* stage() or commit() runs without the GIL: no other call may */
} SpanKeysObject;

/* Claim the set for a call that gives the GIL up; 0 (RuntimeError set) when another thread's
 * call is under way. Called and released with the GIL held. */
static int sk_claim(SpanKeysObject *self) {
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "SpanKeys: in use by another thread");
        return 0;
    }
    self->busy = 1;
    return 1;
}

#define SK_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SK_ROUND                                                                                 \
    do {                                                                                         \
        v0 += v1;                                                                                \
        v1 = SK_ROTL(v1, 13);                                                                    \
        v1 ^= v0;                                                                                \
        v0 = SK_ROTL(v0, 32);                                                                    \
        v2 += v3;                                                                                \
        v3 = SK_ROTL(v3, 16);                                                                    \
        v3 ^= v2;                                                                                \
        v0 += v3;                                                                                \
        v3 = SK_ROTL(v3, 21);                                                                    \
        v3 ^= v0;                                                                                \
        v2 += v1;                                                                                \
        v1 = SK_ROTL(v1, 17);                                                                    \
        v1 ^= v2;                                                                                \
        v2 = SK_ROTL(v2, 32);                                                                    \
    } while (0)

/* SipHash-1-3 of the 24 key bytes; the table uses its low 32 bits */
static uint32_t sk_hash(const SpanKeysObject *self, const skey_t *key) {
    uint64_t v0 = self->k0 ^ 0x736f6d6570736575ULL, v1 = self->k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = self->k0 ^ 0x6c7967656e657261ULL, v3 = self->k1 ^ 0x7465646279746573ULL;
    for (int w = 0; w < SK_KEY / 8; w++) {
        uint64_t m;
        memcpy(&m, key->b + 8 * w, 8);
        v3 ^= m;
        SK_ROUND;
        v0 ^= m;
    }
    uint64_t last = (uint64_t)SK_KEY << 56;
    v3 ^= last;
    SK_ROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SK_ROUND;
    SK_ROUND;
    SK_ROUND;
    return (uint32_t)(v0 ^ v1 ^ v2 ^ v3);
}

/* a table for up to `entries` keys at most half full (slot count a power of two >= 16) */
static int sk_table_init(sk_table_t *t, uint64_t entries) {
    uint64_t size = 16;
    while (size < 2 * entries)
        size *= 2;
    t->slots = calloc((size_t)size, sizeof(uint64_t));
    if (t->slots == NULL)
        return -1;
    t->mask = size - 1;
    return 0;
}

/* the slot holding `key` (whose entries live in `keys`), or the empty slot ending its probe */
static uint64_t sk_find(const sk_table_t *t, const skey_t *keys, const skey_t *key, uint32_t h,
                        int *found) {
    uint64_t i = h & t->mask;
    for (;;) {
        uint64_t s = t->slots[i];
        if (s == 0) {
            *found = 0;
            return i;
        }
        if ((uint32_t)(s >> 32) == h && memcmp(keys[(s & 0xffffffffu) - 1].b, key->b, SK_KEY) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & t->mask;
    }
}

/* empty slot i, moving later entries of its probe run back so that every probe still ends at
 * the first empty slot */
static void sk_delete(sk_table_t *t, uint64_t i) {
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        uint64_t s = t->slots[j];
        if (s == 0)
            break;
        uint64_t home = (s >> 32) & t->mask;
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slots[i] = s;
            i = j;
        }
    }
    t->slots[i] = 0;
}

/* each byte's value as a lower-case hex digit; 0xff for any other byte */
static uint8_t SK_HEXVAL[256];

static void sk_hex_init(void) {
    memset(SK_HEXVAL, 0xff, sizeof(SK_HEXVAL));
    for (int c = 0; c < 10; c++)
        SK_HEXVAL['0' + c] = (uint8_t)c;
    for (int c = 0; c < 6; c++)
        SK_HEXVAL['a' + c] = (uint8_t)(10 + c);
}

/* `n` (even) hex characters into n / 2 bytes; 0 when one is not lower-case hex */
static int sk_unhex(const uint8_t *hex, size_t n, uint8_t *out) {
    unsigned bad = 0;
    for (size_t i = 0; i < n; i += 2) {
        unsigned hi = SK_HEXVAL[hex[i]], lo = SK_HEXVAL[hex[i + 1]];
        bad |= hi | lo;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (bad & 0xf0) == 0;
}

/* one Arrow string array (int32 offsets) given as its buffers */
typedef struct {
    Py_buffer validity, offsets, data;
    int has_validity;
    Py_ssize_t offset;
} sk_strings_t;

static void sk_strings_release(sk_strings_t *a) {
    if (a->has_validity)
        PyBuffer_Release(&a->validity);
    if (a->offsets.obj != NULL)
        PyBuffer_Release(&a->offsets);
    if (a->data.obj != NULL)
        PyBuffer_Release(&a->data);
}

/* take the buffers, checking that `length` rows from `offset` fit in them */
static int sk_strings_get(sk_strings_t *a, PyObject *validity, PyObject *offsets, PyObject *data,
                          Py_ssize_t offset, Py_ssize_t length) {
    memset(a, 0, sizeof(*a));
    a->offset = offset;
    if (offset < 0 || length < 0 || offset > PY_SSIZE_T_MAX / 8 - length - 1) {
        PyErr_SetString(PyExc_ValueError, "SpanKeys: negative or huge offset or length");
        return -1;
    }
    if (validity != Py_None) {
        if (PyObject_GetBuffer(validity, &a->validity, PyBUF_SIMPLE) < 0)
            return -1;
        a->has_validity = 1;
        if (a->validity.len < (offset + length + 7) / 8) {
            PyErr_SetString(PyExc_ValueError, "SpanKeys: validity bitmap shorter than the rows");
            return -1;
        }
    }
    if (PyObject_GetBuffer(offsets, &a->offsets, PyBUF_SIMPLE) < 0)
        return -1;
    if (data == Py_None) {
        PyErr_SetString(PyExc_ValueError, "SpanKeys: no data buffer");
        return -1;
    }
    if (PyObject_GetBuffer(data, &a->data, PyBUF_SIMPLE) < 0)
        return -1;
    if (a->offsets.len / (Py_ssize_t)sizeof(int32_t) < offset + length + 1) {
        PyErr_SetString(PyExc_ValueError, "SpanKeys: offsets shorter than the rows");
        return -1;
    }
    return 0;
}

/* row `i`'s string: 1 and its bytes, 0 when null, -1 when its offsets are out of bounds (no
 * Python error set: called without the GIL) */
static int sk_string(const sk_strings_t *a, Py_ssize_t i, const uint8_t **p, size_t *n) {
    Py_ssize_t row = a->offset + i;
    if (a->has_validity && !((((const uint8_t *)a->validity.buf)[row / 8] >> (row % 8)) & 1))
        return 0;
    int32_t start, end;
    memcpy(&start, (const char *)a->offsets.buf + row * 4, 4);
    memcpy(&end, (const char *)a->offsets.buf + (row + 1) * 4, 4);
    if (start < 0 || end < start || end > a->data.len)
        return -1;
    *p = (const uint8_t *)a->data.buf + start;
    *n = (size_t)(end - start);
    return 1;
}

/* room for one more staged key; the pending table grows (rehashed) to stay half full */
static int sk_stage_reserve(SpanKeysObject *self) {
    if (self->staged_n == self->staged_cap) {
        Py_ssize_t cap = self->staged_cap ? self->staged_cap * 2 : 1024;
        if (cap > SK_MAX_CAPACITY * 4)
            return -1;
        skey_t *k = realloc(self->staged, (size_t)cap * sizeof(skey_t));
        if (k == NULL)
            return -1;
        self->staged = k;
        uint32_t *h = realloc(self->staged_hash, (size_t)cap * sizeof(uint32_t));
        if (h == NULL)
            return -1;
        self->staged_hash = h;
        self->staged_cap = cap;
    }
    if ((uint64_t)(self->staged_n + 1) * 2 > self->pending.mask + 1) {
        sk_table_t bigger;
        if (sk_table_init(&bigger, (uint64_t)(self->staged_n + 1) * 2) < 0)
            return -1;
        for (Py_ssize_t s = 0; s < self->staged_n; s++) {
            int found;
            uint64_t at = sk_find(&bigger, self->staged, &self->staged[s], self->staged_hash[s],
                                  &found);
            bigger.slots[at] = (uint64_t)self->staged_hash[s] << 32 | (uint64_t)(s + 1);
        }
        free(self->pending.slots);
        self->pending = bigger;
    }
    return 0;
}

#define SK_KEEP_STAGING 65536 /* staged keys whose memory is kept for the next write */

/* forget the staged keys; the memory of an unusually large write (a refill) is given back */
static void sk_discard(SpanKeysObject *self) {
    if (self->staged_cap > SK_KEEP_STAGING) {
        sk_table_t small;
        if (sk_table_init(&small, 0) == 0) {
            free(self->pending.slots);
            self->pending = small;
            free(self->staged);
            free(self->staged_hash);
            self->staged = NULL;
            self->staged_hash = NULL;
            self->staged_cap = 0;
            self->staged_n = 0;
            return;
        }
    }
    if (self->staged_n) {
        memset(self->pending.slots, 0, (size_t)(self->pending.mask + 1) * sizeof(uint64_t));
        self->staged_n = 0;
    }
}

static PyObject *SpanKeys_stage(SpanKeysObject *self, PyObject *args) {
    PyObject *tv, *to, *td, *sv, *so, *sd;
    Py_ssize_t toff, soff, length;
    if (!PyArg_ParseTuple(args, "OOOnOOOnn", &tv, &to, &td, &toff, &sv, &so, &sd, &soff,
                          &length))
        return NULL;
    sk_strings_t trace, span;
    memset(&trace, 0, sizeof(trace));
    memset(&span, 0, sizeof(span));
    PyObject *keep = NULL, *odd = NULL, *result = NULL;
    int ok = sk_strings_get(&trace, tv, to, td, toff, length) == 0 &&
             sk_strings_get(&span, sv, so, sd, soff, length) == 0;
    if (!ok)
        goto done;
    Py_ssize_t bytes = (length + 7) / 8;
    keep = PyBytes_FromStringAndSize(NULL, bytes);
    odd = PyBytes_FromStringAndSize(NULL, bytes);
    if (keep == NULL || odd == NULL || !sk_claim(self))
        goto done;
    uint8_t *keep_bits = (uint8_t *)PyBytes_AS_STRING(keep);
    uint8_t *odd_bits = (uint8_t *)PyBytes_AS_STRING(odd);
    memset(keep_bits, 0, (size_t)bytes);
    memset(odd_bits, 0, (size_t)bytes);
    Py_ssize_t kept = 0;
    int any_odd = 0;
    enum { SK_OK, SK_BOUNDS, SK_NOMEM } failure = SK_OK;
    /* rows in groups: first each row's key and hash, prefetching its slot of the members' table
     * (a table of a million keys is far larger than the caches), then the look-ups */
    skey_t keys[SK_GROUP];
    uint32_t hashes[SK_GROUP];
    int valid[SK_GROUP];
    /* no Python object is touched from here to the end of the loop: the receivers' event loop
     * runs meanwhile (a write's keys take milliseconds) */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t first = 0; first < length; first += SK_GROUP) {
        int rows = length - first < SK_GROUP ? (int)(length - first) : SK_GROUP;
        for (int g = 0; g < rows; g++) {
            Py_ssize_t i = first + g;
            const uint8_t *tp = NULL, *sp = NULL;
            size_t tn = 0, sn = 0;
            int t = sk_string(&trace, i, &tp, &tn);
            int s = t < 0 ? -1 : sk_string(&span, i, &sp, &sn);
            if (t < 0 || s < 0) {
                failure = SK_BOUNDS;
                goto looked_up;
            }
            valid[g] = t && s && tn == SK_TRACE_HEX && sn == SK_SPAN_HEX &&
                       sk_unhex(tp, tn, keys[g].b) &&
                       sk_unhex(sp, sn, keys[g].b + SK_TRACE_HEX / 2);
            if (!valid[g]) {
                any_odd = 1;
                odd_bits[i / 8] |= (uint8_t)(1u << (i % 8));
                continue;
            }
            hashes[g] = sk_hash(self, &keys[g]);
            SK_PREFETCH(&self->members.slots[hashes[g] & self->members.mask]);
        }
        for (int g = 0; g < rows; g++) {
            if (!valid[g])
                continue;
            Py_ssize_t i = first + g;
            uint32_t h = hashes[g];
            int found;
            sk_find(&self->members, self->ring, &keys[g], h, &found);
            if (found)
                continue;
            if (sk_stage_reserve(self) < 0) { /* first: it may grow (rehash) the pending table */
                failure = SK_NOMEM;
                goto looked_up;
            }
            uint64_t at = sk_find(&self->pending, self->staged, &keys[g], h, &found);
            if (found)
                continue;
            self->staged[self->staged_n] = keys[g];
            self->staged_hash[self->staged_n] = h;
            self->staged_n++;
            self->pending.slots[at] = (uint64_t)h << 32 | (uint64_t)self->staged_n;
            keep_bits[i / 8] |= (uint8_t)(1u << (i % 8));
            kept++;
        }
    }
looked_up:
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (failure == SK_BOUNDS)
        PyErr_SetString(PyExc_ValueError, "SpanKeys: string offsets out of bounds");
    else if (failure == SK_NOMEM)
        PyErr_NoMemory();
    else
        result = Py_BuildValue("(OnO)", keep, kept, any_odd ? odd : Py_None);
done:
    sk_strings_release(&trace);
    sk_strings_release(&span);
    Py_XDECREF(keep);
    Py_XDECREF(odd);
    return result;
}

/* the oldest member leaves (the set is full) */
static void sk_evict_oldest(SpanKeysObject *self) {
    int found;
    const skey_t *old = &self->ring[self->head];
    uint64_t at = sk_find(&self->members, self->ring, old, sk_hash(self, old), &found);
    if (found) /* always: every ring entry of a full set is a member */
        sk_delete(&self->members, at);
    self->count--;
}

static PyObject *SpanKeys_commit(SpanKeysObject *self, PyObject *unused) {
    (void)unused;
    if (!sk_claim(self))
        return NULL;
    Py_BEGIN_ALLOW_THREADS /* plain memory only, as in stage() */
    for (Py_ssize_t first = 0; first < self->staged_n; first += SK_GROUP) {
        Py_ssize_t last = first + SK_GROUP < self->staged_n ? first + SK_GROUP : self->staged_n;
        /* prefetch the slots the group's insertions and evictions will touch; a key evicted
         * here may be overwritten by the group before its turn, which only wastes a prefetch */
        for (Py_ssize_t s = first; s < last; s++) {
            SK_PREFETCH(&self->members.slots[self->staged_hash[s] & self->members.mask]);
            if (self->count + (s - first) >= self->capacity) {
                const skey_t *old = &self->ring[(self->head + (s - first)) % self->capacity];
                SK_PREFETCH(&self->members.slots[sk_hash(self, old) & self->members.mask]);
            }
        }
        for (Py_ssize_t s = first; s < last; s++) {
            int found;
            if (self->count == self->capacity)
                sk_evict_oldest(self);
            self->ring[self->head] = self->staged[s];
            uint64_t at = sk_find(&self->members, self->ring, &self->staged[s],
                                  self->staged_hash[s], &found);
            if (!found) /* always: stage() kept only keys that were not members */
                self->members.slots[at] =
                    (uint64_t)self->staged_hash[s] << 32 | (uint64_t)(self->head + 1);
            self->head = (self->head + 1) % self->capacity;
            self->count++;
        }
    }
    sk_discard(self);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    Py_RETURN_NONE;
}

static PyObject *SpanKeys_discard(SpanKeysObject *self, PyObject *unused) {
    (void)unused;
    if (!sk_claim(self))
        return NULL;
    sk_discard(self);
    self->busy = 0;
    Py_RETURN_NONE;
}

static PyObject *SpanKeys_nbytes(SpanKeysObject *self, void *closure) {
    (void)closure;
    size_t n = (size_t)self->capacity * sizeof(skey_t) +
               (size_t)(self->members.mask + 1) * sizeof(uint64_t) +
               (size_t)self->staged_cap * (sizeof(skey_t) + sizeof(uint32_t)) +
               (size_t)(self->pending.mask + 1) * sizeof(uint64_t);
    return PyLong_FromSize_t(n);
}

static PyObject *SpanKeys_capacity(SpanKeysObject *self, void *closure) {
    (void)closure;
    return PyLong_FromSsize_t(self->capacity);
}

static Py_ssize_t SpanKeys_len(SpanKeysObject *self) { return self->count; }

static void SpanKeys_dealloc(SpanKeysObject *self) {
    free(self->ring);
    free(self->members.slots);
    free(self->staged);
    free(self->staged_hash);
    free(self->pending.slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int SpanKeys_init(SpanKeysObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"capacity", "seed", NULL};
    Py_ssize_t capacity;
    Py_buffer seed;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "ny*", names, &capacity, &seed))
        return -1;
    if (self->ring != NULL) {
        PyBuffer_Release(&seed);
        PyErr_SetString(PyExc_RuntimeError, "SpanKeys: already initialised");
        return -1;
    }
    if (capacity < 1 || capacity > SK_MAX_CAPACITY || seed.len != 16) {
        PyBuffer_Release(&seed);
        PyErr_SetString(PyExc_ValueError, "SpanKeys: capacity 1..2**30 and a 16-byte seed");
        return -1;
    }
    sk_hex_init();
    memcpy(&self->k0, seed.buf, 8);
    memcpy(&self->k1, (const char *)seed.buf + 8, 8);
    PyBuffer_Release(&seed);
    self->capacity = capacity;
    self->ring = calloc((size_t)capacity, sizeof(skey_t));
    if (self->ring == NULL || sk_table_init(&self->members, (uint64_t)capacity) < 0 ||
        sk_table_init(&self->pending, 0) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static PyMethodDef SPAN_KEYS_METHODS[] = {
    {"stage", (PyCFunction)SpanKeys_stage, METH_VARARGS,
     "stage(trace validity, offsets, data, offset, span validity, offsets, data, offset, length)"
     " -> (keep bitmap, kept, odd bitmap or None); the kept rows' keys are staged."},
    {"commit", (PyCFunction)SpanKeys_commit, METH_NOARGS,
     "Make the staged keys members (the oldest leave past capacity)."},
    {"discard", (PyCFunction)SpanKeys_discard, METH_NOARGS, "Forget the staged keys."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef SPAN_KEYS_GETSET[] = {
    {"nbytes", (getter)SpanKeys_nbytes, NULL, "Bytes of memory the set holds.", NULL},
    {"capacity", (getter)SpanKeys_capacity, NULL, "Keys kept at most.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods SPAN_KEYS_SEQUENCE = {.sq_length = (lenfunc)SpanKeys_len};

static PyTypeObject SpanKeysType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "obsvty._native.SpanKeys",
    .tp_basicsize = sizeof(SpanKeysObject),
    .tp_dealloc = (destructor)SpanKeys_dealloc,
    .tp_as_sequence = &SPAN_KEYS_SEQUENCE,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "SpanKeys(capacity, seed): the keys of the spans committed last (see span_keys.h).",
    .tp_methods = SPAN_KEYS_METHODS,
    .tp_getset = SPAN_KEYS_GETSET,
    .tp_init = (initproc)SpanKeys_init,
    .tp_new = PyType_GenericNew,
};

#endif
