/* Reading the protobuf wire format from untrusted bytes: every length and varint is checked
 * against the end of its buffer. Anything unusual (groups, a field number 0, a wire type that
 * does not match the field, an over-long tag) answers FALLBACK, which hands the request to the
 * reference decoder: that keeps this one small and exactly as strict as the official parser on
 * everything it does accept. */
#ifndef OBSVTY_WIRE_H
#define OBSVTY_WIRE_H

#include "columns.h"

typedef struct {
    const uint8_t *p, *end;
} rd_t;

typedef struct {
    const uint8_t *p;
    size_t n;
} slice_t;

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static inline int rd_varint(rd_t *r, uint64_t *out) {
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (r->p >= r->end)
            return FALLBACK;
        uint8_t b = *r->p++;
        if (i == 9 && b > 1)
            return FALLBACK; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return OK;
        }
    }
    return FALLBACK;
}

static inline int rd_tag(rd_t *r, uint32_t *field, int *wt) {
    const uint8_t *start = r->p;
    uint64_t t;
    TRY(rd_varint(r, &t));
    if (r->p - start > 5 || t > UINT32_MAX || (t >> 3) == 0)
        return FALLBACK;
    *wt = (int)(t & 7);
    *field = (uint32_t)(t >> 3);
    return OK;
}

static inline int rd_len(rd_t *r, slice_t *out) {
    uint64_t n;
    TRY(rd_varint(r, &n));
    if (n > (uint64_t)(r->end - r->p))
        return FALLBACK;
    out->p = r->p;
    out->n = (size_t)n;
    r->p += n;
    return OK;
}

static inline int rd_fixed64(rd_t *r, uint64_t *out) {
    if (r->end - r->p < 8)
        return FALLBACK;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | r->p[i];
    r->p += 8;
    *out = v;
    return OK;
}

static inline int rd_fixed32(rd_t *r, uint32_t *out) {
    if (r->end - r->p < 4)
        return FALLBACK;
    *out = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
           (uint32_t)r->p[3] << 24;
    r->p += 4;
    return OK;
}

/* an unknown field's value; groups and the reserved wire types fall back */
static int rd_skip(rd_t *r, int wt) {
    uint64_t v;
    slice_t s;
    switch (wt) {
    case WT_VARINT:
        return rd_varint(r, &v);
    case WT_I64:
        return rd_fixed64(r, &v);
    case WT_LEN:
        return rd_len(r, &s);
    case WT_I32: {
        uint32_t w;
        return rd_fixed32(r, &w);
    }
    default:
        return FALLBACK;
    }
}

/* a field's value must come with the wire type of its declared type */
#define EXPECT(wt, want)             \
    do {                             \
        if ((wt) != (want))          \
            return FALLBACK;         \
    } while (0)

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), as protobuf requires
 * of proto3 strings. */
static int utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
        } else if (c >= 0xC2 && c <= 0xDF) {
            if (n - i < 2 || (s[i + 1] & 0xC0) != 0x80)
                return 0;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (n - i < 3 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                return 0;
            if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F))
                return 0;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (n - i < 4 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80)
                return 0;
            if ((c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

/* a string field: length-delimited and valid UTF-8 */
static inline int rd_string(rd_t *r, int wt, slice_t *out) {
    EXPECT(wt, WT_LEN);
    TRY(rd_len(r, out));
    return utf8_valid(out->p, out->n) ? OK : FALLBACK;
}

static inline int rd_bytes(rd_t *r, int wt, slice_t *out) {
    EXPECT(wt, WT_LEN);
    return rd_len(r, out);
}

/* A growable list of slices (the occurrences of a repeated field). */
typedef struct {
    slice_t *v;
    size_t n, cap;
} slices_t;

static int slices_push(slices_t *s, slice_t x) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        if (cap > SIZE_MAX / sizeof(slice_t))
            return NOMEM;
        slice_t *v = realloc(s->v, cap * sizeof(slice_t));
        if (v == NULL)
            return NOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return OK;
}

static void slices_free(slices_t *s) {
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

#endif
