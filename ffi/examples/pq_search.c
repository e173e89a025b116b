/*
 * pq_search: the whole life of a product quantizer in a C search engine, through libvq.
 *
 *   1. read base and query vectors from .fvecs files;
 *   2. train a product quantizer on the base vectors (offline, once);
 *   3. save it as a model file, and load it back (what every serving process does);
 *   4. encode the base vectors into compact codes;
 *   5. search the queries over the codes: distance table + ADC scan, top k;
 *   6. print recall against exact ground truth (.ivecs, or computed here by brute force).
 *
 * usage: pq_search BASE.fvecs QUERY.fvecs [GT.ivecs|-] [M] [KSUB] [MODEL]
 *   M     sub-quantizers (default dim/8), KSUB centroids each (default 256),
 *   MODEL where to save the model (default pq_search.vqm).
 *
 * Build (after `cargo build --release -p vq-ffi` at the repository root):
 *   cc -std=c11 -O2 -Iinclude ffi/examples/pq_search.c target/release/libvq_ffi.a \
 *      -lpthread -ldl -lm -o pq_search
 * or with pkg-config once installed: cc ... $(pkg-config --cflags --libs vq)
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vq.h"

enum { K = 10 };

/* Every vq call returns a status; on failure vq_last_error() says what and why. */
static void check(vq_status s, const char *what) {
    if (s != VQ_STATUS_OK) {
        fprintf(stderr, "%s failed: %s\n  %s\n", what, vq_status_str(s), vq_last_error());
        exit(1);
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Reads a TEXMEX file (per vector: int32 dimension, then dim 4-byte values). */
static void *read_vecs(const char *path, size_t *n, size_t *dim) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    int32_t d = 0;
    if (fread(&d, 4, 1, f) != 1 || d <= 0) {
        fprintf(stderr, "%s: not a vecs file\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    rewind(f);
    size_t row = 4 * ((size_t)d + 1);
    if (bytes < 0 || (size_t)bytes % row != 0) {
        fprintf(stderr, "%s: truncated (not whole rows of dimension %d)\n", path, d);
        exit(1);
    }
    *n = (size_t)bytes / row;
    *dim = (size_t)d;
    unsigned char *out = malloc(*n * *dim * 4);
    if (out == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < *n; i++) {
        int32_t di;
        if (fread(&di, 4, 1, f) != 1 || di != d || fread(out + i * *dim * 4, 4, *dim, f) != *dim) {
            fprintf(stderr, "%s: bad row %zu\n", path, i);
            exit(1);
        }
    }
    fclose(f);
    return out;
}

/* Exact top-K by brute force with the library's L2 kernel (when no ground truth file). */
static int32_t *exact_top_k(const float *base, size_t nb, const float *queries, size_t nq, size_t d) {
    int32_t *gt = malloc(nq * K * sizeof *gt);
    float *dist = malloc(nb * sizeof *dist);
    if (gt == NULL || dist == NULL) exit(1);
    for (size_t q = 0; q < nq; q++) {
        check(vq_l2sq_batch(queries + q * d, d, base, nb * d, dist, nb), "vq_l2sq_batch");
        for (size_t r = 0; r < K; r++) { /* K passes of selection: fine for an example */
            size_t best = 0;
            for (size_t i = 1; i < nb; i++)
                if (dist[i] < dist[best]) best = i;
            gt[q * K + r] = (int32_t)best;
            dist[best] = INFINITY;
        }
    }
    free(dist);
    return gt;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s BASE.fvecs QUERY.fvecs [GT.ivecs|-] [M] [KSUB] [MODEL]\n", argv[0]);
        return 2;
    }
    size_t nb, d, nq, dq, gt_k = K;
    float *base = read_vecs(argv[1], &nb, &d);
    float *queries = read_vecs(argv[2], &nq, &dq);
    if (dq != d) {
        fprintf(stderr, "queries have dimension %zu, base %zu\n", dq, d);
        return 1;
    }
    size_t m = argc > 4 ? strtoul(argv[4], NULL, 10) : (d >= 8 ? d / 8 : 1);
    size_t ksub = argc > 5 ? strtoul(argv[5], NULL, 10) : 256;
    const char *model = argc > 6 ? argv[6] : "pq_search.vqm";
    printf("vq %s (SIMD %s): %zu base, %zu queries, dim %zu; PQ m=%zu ksub=%zu\n", vq_version(), vq_simd_level(),
           nb, nq, d, m, ksub);

    /* 2. Train (all cores; the result does not depend on the thread count). */
    vq_train_params params = vq_train_params_default();
    params.threads = 0;
    vq_pq *trained = NULL;
    double t0 = now();
    check(vq_pq_train(d, m, ksub, base, nb * d, &params, &trained), "vq_pq_train");
    printf("train:  %.2f s\n", now() - t0);

    /* 3. Save, free, load back. */
    check(vq_pq_save(trained, model), "vq_pq_save");
    vq_pq_free(trained);
    vq_pq *pq = NULL;
    t0 = now();
    check(vq_pq_load(model, &pq), "vq_pq_load");
    printf("load:   %.2f ms (%s)\n", 1e3 * (now() - t0), model);

    /* 4. Encode. */
    size_t cs = vq_pq_code_size(pq);
    uint8_t *codes = malloc(nb * cs);
    if (codes == NULL) return 1;
    t0 = now();
    check(vq_pq_encode(pq, base, nb * d, codes, nb * cs), "vq_pq_encode");
    printf("encode: %.2f s, %zu bytes per vector (%.1fx smaller than float32)\n", now() - t0, cs,
           (double)(4 * d) / (double)cs);

    /* 5. Search. A serving thread would call vq_pq_search (or vq_pq_distance_table +
     * vq_pq_adc_scan over its own code lists) per query; the handle is shared, read-only. */
    float *dist = malloc(nq * K * sizeof *dist);
    int64_t *labels = malloc(nq * K * sizeof *labels);
    if (dist == NULL || labels == NULL) return 1;
    t0 = now();
    check(vq_pq_search(pq, queries, nq * d, codes, nb * cs, K, dist, nq * K, labels, nq * K), "vq_pq_search");
    double dt = now() - t0;
    printf("search: %.2f ms for %zu queries (%.2f ns per code per query)\n", 1e3 * dt, nq,
           1e9 * dt / ((double)nq * (double)nb));

    /* 6. Recall@1 and @10 against exact neighbours. */
    size_t ng = nq;
    int32_t *gt;
    if (argc > 3 && strcmp(argv[3], "-") != 0) {
        gt = read_vecs(argv[3], &ng, &gt_k);
        if (ng < nq || gt_k < K) {
            fprintf(stderr, "ground truth needs %zu rows of at least %d ids\n", nq, K);
            return 1;
        }
    } else {
        gt = exact_top_k(base, nb, queries, nq, d);
    }
    size_t hit1 = 0, hit10 = 0;
    for (size_t q = 0; q < nq; q++) {
        hit1 += labels[q * K] == gt[q * gt_k];
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++) hit10 += labels[q * K + i] == gt[q * gt_k + j];
    }
    printf("recall@1 %.3f  recall@10 %.3f\n", (double)hit1 / (double)nq, (double)hit10 / (double)(nq * K));

    free(gt);
    free(dist);
    free(labels);
    free(codes);
    free(base);
    free(queries);
    vq_pq_free(pq);
    return 0;
}
