/* The C side of benches/c_abi.rs: the same calls, on the same files, timed the same way
 * (median of REPS, CLOCK_MONOTONIC), through libvq.a.
 *
 * usage: c_abi_bench DIR REPS
 * DIR holds pq.vqm (the model), codes.bin (n codes), queries.bin (nq queries of dim
 * floats), big.vqm (the 100 MB model). Prints "name median_ns" lines. */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vq.h"

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e9 * (double)t.tv_sec + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *slurp(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    void *p = malloc(*len);
    if (p == NULL || fread(p, 1, *len, f) != *len) exit(1);
    fclose(f);
    return p;
}

#define OK(call)                                                                  \
    do {                                                                          \
        vq_status s_ = (call);                                                    \
        if (s_ != VQ_STATUS_OK) {                                                 \
            fprintf(stderr, "%s: %s\n", #call, vq_last_error());                  \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    const char *dir = argv[1];
    int reps = atoi(argv[2]);
    double *t = malloc((size_t)reps * sizeof *t);
    char path[4096];
    snprintf(path, sizeof path, "%s/pq.vqm", dir);
    vq_pq *pq = NULL;
    OK(vq_pq_load(path, &pq));
    size_t d = vq_pq_dim(pq), cs = vq_pq_code_size(pq), tl = vq_pq_m(pq) * vq_pq_ksub(pq);
    size_t codes_len, q_len;
    uint8_t *codes = slurp(dir, "codes.bin", &codes_len);
    float *queries = slurp(dir, "queries.bin", &q_len);
    size_t n = codes_len / cs, nq = q_len / sizeof(float) / d, k = 10;
    float *table = malloc(tl * sizeof *table);
    float *out = malloc(n * sizeof *out);
    float *dist = malloc(nq * k * sizeof *dist);
    int64_t *lab = malloc(nq * k * sizeof *lab);

    OK(vq_pq_distance_table(pq, queries, d, table, tl));
    for (int r = 0; r < reps; r++) {
        double t0 = now_ns();
        OK(vq_pq_adc_scan(pq, table, tl, codes, codes_len, out, n));
        t[r] = now_ns() - t0;
    }
    printf("adc_scan %.0f\n", median(t, reps));
    for (int r = 0; r < reps; r++) {
        double t0 = now_ns();
        OK(vq_pq_search(pq, queries, nq * d, codes, codes_len, k, dist, nq * k, lab, nq * k));
        t[r] = now_ns() - t0;
    }
    printf("search %.0f\n", median(t, reps));
    printf("checksum %.6g %lld\n", (double)out[n / 2], (long long)lab[0]);

    snprintf(path, sizeof path, "%s/big.vqm", dir);
    for (int r = 0; r < reps; r++) {
        vq_pq *big = NULL;
        double t0 = now_ns();
        OK(vq_pq_load(path, &big));
        t[r] = now_ns() - t0;
        vq_pq_free(big);
    }
    printf("load_100mb %.0f\n", median(t, reps));

    free(t);
    free(codes);
    free(queries);
    free(table);
    free(out);
    free(dist);
    free(lab);
    vq_pq_free(pq);
    return 0;
}
