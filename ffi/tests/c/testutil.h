/* Helpers shared by the C and C++ test programs: checks that exit with a message, and
 * .fvecs / .ivecs readers (TEXMEX: per vector an int32 dimension, then its values). */
#ifndef VQ_TESTUTIL_H
#define VQ_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vq.h"

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last vq error: %s)\n", __FILE__,  \
                    __LINE__, #cond, vq_last_error());                                 \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

/* A call must return `want`; on failure print both statuses and the message. */
#define EXPECT_STATUS(call, want)                                                      \
    do {                                                                               \
        vq_status got_ = (call);                                                       \
        if (got_ != (want)) {                                                          \
            fprintf(stderr, "%s:%d: %s returned %u (%s), expected %u; message: %s\n",   \
                    __FILE__, __LINE__, #call, (unsigned)got_, vq_status_str(got_),    \
                    (unsigned)(want), vq_last_error());                                \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define OK(call) EXPECT_STATUS(call, VQ_STATUS_OK)

/* The message of the last failure must contain `needle`. */
#define EXPECT_MESSAGE(needle)                                                         \
    do {                                                                               \
        if (strstr(vq_last_error(), (needle)) == NULL) {                               \
            fprintf(stderr, "%s:%d: last error \"%s\" does not mention \"%s\"\n",       \
                    __FILE__, __LINE__, vq_last_error(), (needle));                    \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

/* Reads a whole TEXMEX file of 4-byte elements; returns malloc'ed values, sets *rows, *dim. */
static inline void *read_vecs4(const char *path, size_t *rows, size_t *dim) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    int32_t d = 0;
    if (fread(&d, 4, 1, f) != 1 || d <= 0) {
        fprintf(stderr, "%s: bad first dimension\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t row_bytes = 4 * ((size_t)d + 1);
    if (bytes <= 0 || (size_t)bytes % row_bytes != 0) {
        fprintf(stderr, "%s: not a whole number of rows of dimension %d\n", path, d);
        exit(1);
    }
    size_t n = (size_t)bytes / row_bytes;
    unsigned char *out = (unsigned char *)malloc(n * (size_t)d * 4);
    CHECK(out != NULL);
    for (size_t i = 0; i < n; i++) {
        int32_t di = 0;
        CHECK(fread(&di, 4, 1, f) == 1 && di == d);
        CHECK(fread(out + i * (size_t)d * 4, 4, (size_t)d, f) == (size_t)d);
    }
    fclose(f);
    *rows = n;
    *dim = (size_t)d;
    return out;
}

/* recall@k: the fraction of each query's true k nearest (gt rows of gt_k ids) found among
 * its first k results (labels rows of k ids). */
static inline double recall_at(const int32_t *gt, size_t gt_k, const int64_t *labels, size_t k,
                               size_t nq) {
    size_t hit = 0;
    for (size_t q = 0; q < nq; q++) {
        for (size_t i = 0; i < k; i++) {
            for (size_t j = 0; j < k; j++) {
                if (labels[q * k + i] == (int64_t)gt[q * gt_k + j]) {
                    hit++;
                    break;
                }
            }
        }
    }
    return (double)hit / (double)(nq * k);
}

static inline char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = (char *)malloc(n);
    CHECK(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* A seeded linear congruential generator: advances *state, returns a float in [0, 1). */
static inline float lcg_uniform(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / 16777216.0f;
}

/* The oracles' arithmetic, in double: the dot product and the squared L2 distance. */
static inline double dot(const float *a, const float *b, size_t d) {
    double s = 0;
    for (size_t j = 0; j < d; j++) s += (double)a[j] * (double)b[j];
    return s;
}

static inline double l2sq(const float *a, const float *b, size_t d) {
    double s = 0;
    for (size_t j = 0; j < d; j++) s += ((double)a[j] - (double)b[j]) * ((double)a[j] - (double)b[j]);
    return s;
}

/* Whether score a ranks before score b under `metric`: smaller first for L2, larger for the
 * similarities. */
static inline int better(uint32_t metric, double a, double b) {
    return metric == VQ_METRIC_L2 ? a < b : a > b;
}

/* Reads a whole non-empty file; returns malloc'ed bytes, sets *len. */
static inline uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    CHECK(n > 0);
    uint8_t *b = (uint8_t *)malloc((size_t)n);
    CHECK(b != NULL && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

#endif
