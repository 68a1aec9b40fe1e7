/* Growable buffers and Arrow columns built in C, exported through the Arrow C data interface.
 *
 * A column owns plain malloc'd buffers; export hands them to an ArrowArray whose release
 * callback frees them, so pyarrow imports the decoded request without copying a byte.
 * Nothing here touches Python: it runs with the GIL released. */
#ifndef OBSVTY_COLUMNS_H
#define OBSVTY_COLUMNS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* result codes shared by every decoding function */
#define OK 0
#define FALLBACK 1 /* a shape this decoder leaves to the reference decoder (or malformed bytes) */
#define NOMEM 2

#define TRY(expr)            \
    do {                     \
        int _rc = (expr);    \
        if (_rc != OK)       \
            return _rc;      \
    } while (0)

typedef struct {
    uint8_t *data;
    size_t len, cap;
} buf_t;

static int buf_grow(buf_t *b, size_t need) {
    if (need <= b->cap)
        return OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return NOMEM;
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return NOMEM;
    b->data = p;
    b->cap = cap;
    return OK;
}

/* room for n more bytes; afterwards b->data is never NULL, so writers may compute
 * b->data + b->len even for n == 0 */
static inline int buf_reserve(buf_t *b, size_t n) {
    if (n > SIZE_MAX - b->len)
        return NOMEM;
    if (b->data == NULL)
        return buf_grow(b, b->len + n + 1);
    return b->len + n <= b->cap ? OK : buf_grow(b, b->len + n);
}

static inline int buf_put(buf_t *b, const void *src, size_t n) {
    TRY(buf_reserve(b, n));
    if (n)
        memcpy(b->data + b->len, src, n);
    b->len += n;
    return OK;
}

static inline int buf_byte(buf_t *b, uint8_t c) {
    TRY(buf_reserve(b, 1));
    b->data[b->len++] = c;
    return OK;
}

#define buf_lit(b, s) buf_put((b), (s), sizeof(s) - 1)

static void buf_free(buf_t *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* One Arrow column: 'u' utf8 (offsets + data), or a fixed width type: 'C' uint8, 'I' uint32,
 * 'i' int32, 'l' int64, 'L' uint64, 'g' float64, 'b' bool (one byte per value here, packed to
 * bits at export). Nullable columns keep one validity byte per value, packed at export too. */
typedef struct {
    char fmt;
    int nullable;
    buf_t data, offsets, valid;
    int64_t length, null_count;
} col_t;

static int col_init(col_t *c, char fmt, int nullable) {
    memset(c, 0, sizeof(*c));
    c->fmt = fmt;
    c->nullable = nullable;
    if (fmt == 'u') {
        int32_t zero = 0;
        TRY(buf_put(&c->offsets, &zero, sizeof(zero)));
    }
    return OK;
}

static void col_free(col_t *c) {
    buf_free(&c->data);
    buf_free(&c->offsets);
    buf_free(&c->valid);
}

static inline int col_valid(col_t *c, int is_valid) {
    if (c->nullable) {
        TRY(buf_byte(&c->valid, (uint8_t)(is_valid != 0)));
        if (!is_valid)
            c->null_count++;
    }
    return OK;
}

/* closes the string value whose bytes were appended to c->data since the previous close */
static inline int col_str_close(col_t *c) {
    if (c->data.len > INT32_MAX)
        return FALLBACK; /* over 2 GiB in one column: not from one request */
    int32_t off = (int32_t)c->data.len;
    TRY(buf_put(&c->offsets, &off, sizeof(off)));
    c->length++;
    return col_valid(c, 1);
}

static inline int col_str(col_t *c, const uint8_t *s, size_t n) {
    TRY(buf_put(&c->data, s, n));
    return col_str_close(c);
}

static inline int col_null(col_t *c) {
    if (c->fmt == 'u') {
        int32_t off = (int32_t)c->data.len;
        TRY(buf_put(&c->offsets, &off, sizeof(off)));
    } else {
        size_t width = c->fmt == 'C' || c->fmt == 'b' ? 1 : (c->fmt == 'I' || c->fmt == 'i') ? 4 : 8;
        TRY(buf_reserve(&c->data, width));
        memset(c->data.data + c->data.len, 0, width);
        c->data.len += width;
    }
    c->length++;
    return col_valid(c, 0);
}

#define COL_FIXED(name, type)                                   \
    static inline int name(col_t *c, type v) {                  \
        TRY(buf_put(&c->data, &v, sizeof(v)));                  \
        c->length++;                                            \
        return col_valid(c, 1);                                 \
    }
COL_FIXED(col_u8, uint8_t)
COL_FIXED(col_u32, uint32_t)
COL_FIXED(col_i32, int32_t)
COL_FIXED(col_i64, int64_t)
COL_FIXED(col_u64, uint64_t)
COL_FIXED(col_f64, double)

/* ---- the Arrow C data interface (https://arrow.apache.org/docs/format/CDataInterface.html) */
struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

typedef struct {
    void *owned[3];
    const void *buffers[3];
} array_private_t;

static void release_array(struct ArrowArray *a) {
    array_private_t *priv = a->private_data;
    for (int64_t i = 0; i < a->n_children; i++) {
        struct ArrowArray *child = a->children[i];
        if (child->release != NULL)
            child->release(child);
        free(child);
    }
    free(a->children);
    if (a->dictionary != NULL) {
        if (a->dictionary->release != NULL)
            a->dictionary->release(a->dictionary);
        free(a->dictionary);
    }
    if (priv != NULL) {
        for (int i = 0; i < 3; i++)
            free(priv->owned[i]);
        free(priv);
    }
    a->release = NULL;
}

/* validity bytes -> an Arrow bitmap (LSB first) */
static uint8_t *pack_bits(const uint8_t *bytes, int64_t n) {
    size_t nbytes = (size_t)(n + 7) / 8;
    uint8_t *bits = calloc(nbytes ? nbytes : 1, 1);
    if (bits == NULL)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        if (bytes[i])
            bits[i >> 3] |= (uint8_t)(1u << (i & 7));
    return bits;
}

/* the buffer's memory, taken from it (never NULL: Arrow readers want a pointer even when empty) */
static void *buf_take(buf_t *b) {
    void *p = b->data;
    if (p == NULL)
        p = malloc(1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

/* Fills `out` from column `c` (emptied); `dictionary`, if not NULL, becomes out's dictionary. */
static int col_export(col_t *c, struct ArrowArray *out, struct ArrowArray *dictionary) {
    array_private_t *priv = calloc(1, sizeof(*priv));
    if (priv == NULL)
        return NOMEM;
    memset(out, 0, sizeof(*out));
    out->length = c->length;
    out->null_count = c->null_count;
    out->private_data = priv;
    out->release = release_array;
    out->dictionary = dictionary;
    if (c->null_count > 0) {
        priv->owned[0] = pack_bits(c->valid.data, c->length);
        if (priv->owned[0] == NULL) {
            release_array(out);
            return NOMEM;
        }
    }
    if (c->fmt == 'b') { /* bytes -> bits */
        uint8_t *bits = pack_bits(c->data.data, c->length);
        if (bits == NULL) {
            release_array(out);
            return NOMEM;
        }
        priv->owned[1] = bits;
    } else if (c->fmt == 'u') {
        priv->owned[1] = buf_take(&c->offsets);
        priv->owned[2] = buf_take(&c->data);
    } else {
        priv->owned[1] = buf_take(&c->data);
    }
    out->n_buffers = c->fmt == 'u' ? 3 : 2;
    for (int i = 0; i < 3; i++)
        priv->buffers[i] = priv->owned[i];
    out->buffers = priv->buffers;
    for (int i = 0; i < (int)out->n_buffers; i++)
        if (i > 0 && priv->owned[i] == NULL) {
            release_array(out);
            return NOMEM;
        }
    col_free(c);
    return OK;
}

/* A record batch (a struct array with no nulls) of `n` children, each exported by the caller
 * into out->children[i]. */
static int batch_alloc(struct ArrowArray *out, int64_t length, int n) {
    memset(out, 0, sizeof(*out));
    out->length = length;
    out->n_buffers = 1;
    array_private_t *priv = calloc(1, sizeof(*priv));
    out->children = calloc((size_t)n, sizeof(struct ArrowArray *));
    out->private_data = priv;
    out->release = release_array;
    if (priv == NULL || out->children == NULL) {
        release_array(out);
        return NOMEM;
    }
    out->buffers = priv->buffers;
    for (int i = 0; i < n; i++) {
        out->children[i] = calloc(1, sizeof(struct ArrowArray));
        if (out->children[i] == NULL) {
            release_array(out);
            return NOMEM;
        }
        out->n_children = i + 1;
    }
    return OK;
}

/* ---- list columns (Arrow's list<item>): int32 offsets, one more than there are lists, into a
 * child column of fixed-width values; no null lists, no null values. A list's values are
 * appended to l->values, then list_close ends it. */
typedef struct {
    col_t values;
    buf_t offsets;
    int64_t length;
} list_t;

static int list_init(list_t *l, char fmt) {
    memset(l, 0, sizeof(*l));
    TRY(col_init(&l->values, fmt, 0));
    int32_t zero = 0;
    return buf_put(&l->offsets, &zero, sizeof(zero));
}

static void list_free(list_t *l) {
    col_free(&l->values);
    buf_free(&l->offsets);
}

/* one 8-byte value (a uint64, or a double's bits) into the open list */
static inline int list_put8(list_t *l, uint64_t bits) {
    TRY(buf_put(&l->values.data, &bits, sizeof(bits)));
    l->values.length++;
    return OK;
}

static inline int list_close(list_t *l) {
    if (l->values.length > INT32_MAX)
        return FALLBACK; /* over 2^31 values in one column: not from one request */
    int32_t off = (int32_t)l->values.length;
    TRY(buf_put(&l->offsets, &off, sizeof(off)));
    l->length++;
    return OK;
}

/* Fills `out` from list column `l` (emptied). */
static int list_export(list_t *l, struct ArrowArray *out) {
    array_private_t *priv = calloc(1, sizeof(*priv));
    if (priv == NULL)
        return NOMEM;
    memset(out, 0, sizeof(*out));
    out->length = l->length;
    out->n_buffers = 2;
    out->private_data = priv;
    out->release = release_array;
    out->buffers = priv->buffers;
    priv->owned[1] = buf_take(&l->offsets);
    priv->buffers[1] = priv->owned[1];
    out->children = calloc(1, sizeof(struct ArrowArray *));
    if (priv->owned[1] == NULL || out->children == NULL) {
        release_array(out);
        return NOMEM;
    }
    out->children[0] = calloc(1, sizeof(struct ArrowArray));
    if (out->children[0] == NULL) {
        release_array(out);
        return NOMEM;
    }
    out->n_children = 1;
    if (col_export(&l->values, out->children[0], NULL) != OK) {
        release_array(out);
        return NOMEM;
    }
    list_free(l);
    return OK;
}

#endif
