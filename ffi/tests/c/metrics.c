/* Inner product and cosine through the C ABI, checked against a brute-force oracle written
 * here in C: PQ and SQ trained by each metric on rows whose norms vary (each row scaled by a
 * seeded factor in 0.5..2, so L2, inner product and cosine rank differently), searched,
 * and compared with the scores of the decoded codes; exact search (vq_knn) against the raw
 * rows; model files keep the metric; a bad metric number is refused by name.
 *
 * usage: metrics TMP_DIR */
#include <math.h>

#include "testutil.h"

enum { D = 24, N = 600, NQ = 20, K = 10 };

static uint32_t rng_state = 2024;

static float *rows(size_t n, size_t d) {
    float *x = (float *)malloc(n * d * sizeof(float));
    CHECK(x != NULL);
    for (size_t i = 0; i < n; i++) {
        float scale = 0.5f + 1.5f * lcg_uniform(&rng_state);
        for (size_t j = 0; j < d; j++) x[i * d + j] = scale * (lcg_uniform(&rng_state) - 0.5f);
    }
    return x;
}

static double norm(const float *a, size_t d) { return sqrt(dot(a, a, d)); }

/* What the rounding of an f32 score of q against x may be off by. */
static double tol(const float *q, const float *x, size_t d) {
    double s = 0;
    for (size_t j = 0; j < d; j++) s += fabs((double)q[j] * (double)x[j]);
    return 1e-5 * (1.0 + s);
}

/* The oracle's score of q against x: the inner product, or for cosine q.x / |q| (x_norm:
 * |x| for exact search over raw rows, 1 over a cosine quantizer's reconstructions, which
 * are not renormalized). */
static double score(uint32_t metric, const float *q, const float *x, size_t d, int raw) {
    double s = dot(q, x, d);
    if (metric == VQ_METRIC_COSINE) {
        double nq = norm(q, d), nx = raw ? norm(x, d) : 1.0;
        s = (nq > 0 && nx > 0) ? s / (nq * nx) : 0.0;
    }
    return s;
}

/* One query's results against the oracle over `n` vectors `v`: scores descending and equal
 * to the oracle's within rounding, and nothing left out scores above the k-th. */
static void check_top_k(uint32_t metric, const float *q, const float *v, size_t n, int raw, const float *dist,
                        const int64_t *lab) {
    for (size_t i = 0; i < K; i++) {
        CHECK(lab[i] >= 0 && (size_t)lab[i] < n);
        for (size_t j = 0; j < i; j++) CHECK(lab[j] != lab[i]);
        if (i > 0) CHECK(dist[i - 1] >= dist[i]);
        const float *x = v + (size_t)lab[i] * D;
        double want = score(metric, q, x, D, raw);
        double t = tol(q, x, D) / (metric == VQ_METRIC_COSINE ? norm(q, D) * (raw ? norm(x, D) : 1.0) : 1.0);
        if (fabs((double)dist[i] - want) > t) {
            fprintf(stderr, "metric %u rank %zu id %lld: %.9g, oracle %.9g\n", (unsigned)metric, i,
                    (long long)lab[i], (double)dist[i], want);
            exit(1);
        }
    }
    for (size_t r = 0; r < n; r++) {
        int taken = 0;
        for (size_t i = 0; i < K; i++) taken |= lab[i] == (int64_t)r;
        if (!taken) CHECK(score(metric, q, v + r * D, D, raw) <= (double)dist[K - 1] + 1e-4);
    }
}

/* The id each metric ranks first for query q by exact search. */
static int64_t top1(uint32_t metric, const float *q, const float *x) {
    float d1;
    int64_t l1;
    OK(vq_knn(metric, D, q, D, x, N * D, 1, &d1, 1, &l1, 1));
    return l1;
}

static void check_exact(const float *x, const float *q) {
    float dist[NQ * K];
    int64_t lab[NQ * K];
    uint32_t metrics[2] = {VQ_METRIC_INNER_PRODUCT, VQ_METRIC_COSINE};
    for (int m = 0; m < 2; m++) {
        /* 20 queries take the blocked product, 3 the pairwise scan: both against the oracle. */
        size_t counts[2] = {NQ, 3};
        for (int c = 0; c < 2; c++) {
            OK(vq_knn(metrics[m], D, q, counts[c] * D, x, N * D, K, dist, counts[c] * K, lab, counts[c] * K));
            for (size_t i = 0; i < counts[c]; i++)
                check_top_k(metrics[m], q + i * D, x, N, 1, dist + i * K, lab + i * K);
        }
    }
    /* The data makes the metrics disagree: some query's best row differs between each pair. */
    int l2_ip = 0, ip_cos = 0, l2_cos = 0;
    for (size_t i = 0; i < NQ; i++) {
        int64_t a = top1(VQ_METRIC_L2, q + i * D, x), b = top1(VQ_METRIC_INNER_PRODUCT, q + i * D, x),
                c = top1(VQ_METRIC_COSINE, q + i * D, x);
        l2_ip |= a != b;
        ip_cos |= b != c;
        l2_cos |= a != c;
    }
    CHECK(l2_ip && ip_cos && l2_cos);
    /* Fewer rows than k: (-INFINITY, -1) after them. */
    OK(vq_knn(VQ_METRIC_INNER_PRODUCT, D, q, D, x, 3 * D, 5, dist, 5, lab, 5));
    CHECK(lab[2] >= 0 && lab[3] == -1 && lab[4] == -1 && dist[3] == -INFINITY && dist[4] == -INFINITY);
    OK(vq_knn(VQ_METRIC_L2, D, q, D, x, 3 * D, 5, dist, 5, lab, 5));
    CHECK(lab[3] == -1 && dist[3] == INFINITY);
}

/* A quantizer's calls, the same for PQ and SQ. */
typedef struct {
    const char *name;
    size_t code_size;
    uint32_t metric;
    vq_status (*encode)(const void *, const float *, size_t, uint8_t *, size_t);
    vq_status (*decode)(const void *, const uint8_t *, size_t, float *, size_t);
    vq_status (*search)(const void *, const float *, size_t, const uint8_t *, size_t, size_t, float *, size_t,
                        int64_t *, size_t);
    vq_status (*distances)(const void *, const float *, size_t, const uint8_t *, size_t, float *, size_t);
    const void *h;
} quantizer;

static vq_status pq_encode(const void *h, const float *v, size_t vl, uint8_t *c, size_t cl) {
    return vq_pq_encode((const vq_pq *)h, v, vl, c, cl);
}
static vq_status pq_decode(const void *h, const uint8_t *c, size_t cl, float *v, size_t vl) {
    return vq_pq_decode((const vq_pq *)h, c, cl, v, vl);
}
static vq_status pq_search(const void *h, const float *q, size_t ql, const uint8_t *c, size_t cl, size_t k,
                           float *d, size_t dl, int64_t *l, size_t ll) {
    return vq_pq_search((const vq_pq *)h, q, ql, c, cl, k, d, dl, l, ll);
}
static vq_status pq_distances(const void *h, const float *q, size_t ql, const uint8_t *c, size_t cl, float *o,
                              size_t ol) {
    return vq_pq_distances((const vq_pq *)h, q, ql, c, cl, o, ol);
}
static vq_status sq_encode(const void *h, const float *v, size_t vl, uint8_t *c, size_t cl) {
    return vq_sq_encode((const vq_sq *)h, v, vl, c, cl);
}
static vq_status sq_decode(const void *h, const uint8_t *c, size_t cl, float *v, size_t vl) {
    return vq_sq_decode((const vq_sq *)h, c, cl, v, vl);
}
static vq_status sq_search(const void *h, const float *q, size_t ql, const uint8_t *c, size_t cl, size_t k,
                           float *d, size_t dl, int64_t *l, size_t ll) {
    return vq_sq_search((const vq_sq *)h, q, ql, c, cl, k, d, dl, l, ll);
}
static vq_status sq_distances(const void *h, const float *q, size_t ql, const uint8_t *c, size_t cl, float *o,
                              size_t ol) {
    return vq_sq_distances((const vq_sq *)h, q, ql, c, cl, o, ol);
}

/* Encode, decode, search and distances against the oracle over the decoded codes. Returns
 * the codes (malloc'ed) and writes the search's results for the round-trip checks. */
static uint8_t *check_quantizer(const quantizer *qz, const float *x, const float *q, float *dist, int64_t *lab) {
    size_t cs = qz->code_size;
    uint8_t *codes = (uint8_t *)malloc(N * cs);
    float *dec = (float *)malloc(N * D * sizeof(float));
    float *all = (float *)malloc(N * sizeof(float));
    CHECK(codes != NULL && dec != NULL && all != NULL);
    OK(qz->encode(qz->h, x, N * D, codes, N * cs));
    OK(qz->decode(qz->h, codes, N * cs, dec, N * D));
    OK(qz->search(qz->h, q, NQ * D, codes, N * cs, K, dist, NQ * K, lab, NQ * K));
    for (size_t i = 0; i < NQ; i++) check_top_k(qz->metric, q + i * D, dec, N, 0, dist + i * K, lab + i * K);
    /* One query at a time, the distances agree with the search. */
    OK(qz->distances(qz->h, q, D, codes, N * cs, all, N));
    for (size_t i = 0; i < K; i++) CHECK(fabsf(all[lab[i]] - dist[i]) <= 1e-5f * (1.0f + fabsf(dist[i])));
    if (qz->metric == VQ_METRIC_COSINE) {
        /* Codes hold unit vectors: a row and four times it (an exact scaling) encode alike,
         * and the reconstructions are about unit length. */
        float row4[D];
        uint8_t c4[4 * D];
        CHECK(cs <= sizeof c4);
        for (size_t j = 0; j < D; j++) row4[j] = 4.0f * x[j];
        OK(qz->encode(qz->h, row4, D, c4, cs));
        CHECK(memcmp(c4, codes, cs) == 0);
        double mean = 0;
        for (size_t i = 0; i < N; i++) mean += norm(dec + i * D, D) / N;
        printf("%s cosine: mean norm of the reconstructions %.4f\n", qz->name, mean);
        CHECK(mean > 0.7 && mean < 1.1);
    }
    /* Fewer codes than k: (-INFINITY, -1) after them. */
    float d5[5];
    int64_t l5[5];
    OK(qz->search(qz->h, q, D, codes, 3 * cs, 5, d5, 5, l5, 5));
    CHECK(l5[2] >= 0 && l5[3] == -1 && l5[4] == -1 && d5[3] == -INFINITY && d5[4] == -INFINITY);
    free(dec);
    free(all);
    return codes;
}

static void check_pq(uint32_t metric, const float *x, const float *q, const char *tmp) {
    vq_train_params p = vq_train_params_default();
    p.iterations = 10;
    p.threads = 1;
    vq_pq *pq = NULL;
    OK(vq_pq_train_metric(metric, D, 6, 64, x, N * D, &p, &pq));
    CHECK(vq_pq_metric(pq) == metric);
    quantizer qz = {"pq", vq_pq_code_size(pq), metric, pq_encode, pq_decode, pq_search, pq_distances, pq};
    float dist[NQ * K], dist2[NQ * K];
    int64_t lab[NQ * K], lab2[NQ * K];
    uint8_t *codes = check_quantizer(&qz, x, q, dist, lab);

    /* File and memory round trips keep the metric and the results. */
    char *path = join(tmp, metric == VQ_METRIC_COSINE ? "metrics_pq_cos.vqm" : "metrics_pq_ip.vqm");
    OK(vq_pq_save(pq, path));
    vq_pq *loaded = NULL;
    OK(vq_pq_load(path, &loaded));
    CHECK(vq_pq_metric(loaded) == metric);
    OK(vq_pq_search(loaded, q, NQ * D, codes, N * qz.code_size, K, dist2, NQ * K, lab2, NQ * K));
    CHECK(memcmp(dist, dist2, sizeof dist) == 0 && memcmp(lab, lab2, sizeof lab) == 0);
    size_t size = 0, written = 0;
    OK(vq_pq_serialized_size(pq, &size));
    uint8_t *buf = (uint8_t *)malloc(size);
    CHECK(buf != NULL);
    OK(vq_pq_save_buffer(pq, buf, size, &written));
    vq_pq *from_buf = NULL;
    OK(vq_pq_load_buffer(buf, written, &from_buf));
    CHECK(vq_pq_metric(from_buf) == metric);

    /* The same centroids given by hand, with the metric: the same search. */
    const float *cent = NULL;
    size_t cent_len = 0;
    OK(vq_pq_centroids(pq, &cent, &cent_len));
    vq_pq *built = NULL;
    OK(vq_pq_from_centroids_metric(metric, D, 6, 64, cent, cent_len, &built));
    CHECK(vq_pq_metric(built) == metric);
    OK(vq_pq_search(built, q, NQ * D, codes, N * qz.code_size, K, dist2, NQ * K, lab2, NQ * K));
    CHECK(memcmp(dist, dist2, sizeof dist) == 0 && memcmp(lab, lab2, sizeof lab) == 0);
    /* vq_pq_from_centroids stays L2. */
    vq_pq *l2 = NULL;
    OK(vq_pq_from_centroids(D, 6, 64, cent, cent_len, &l2));
    CHECK(vq_pq_metric(l2) == VQ_METRIC_L2);

    vq_pq_free(l2);
    vq_pq_free(built);
    vq_pq_free(from_buf);
    vq_pq_free(loaded);
    vq_pq_free(pq);
    free(buf);
    free(path);
    free(codes);
}

static void check_sq(uint32_t metric, const float *x, const float *q, const char *tmp) {
    vq_sq *sq = NULL;
    OK(vq_sq_train_metric(metric, 8, D, x, N * D, &sq));
    CHECK(vq_sq_metric(sq) == metric);
    const float *vmin = NULL, *vmax = NULL;
    size_t rd = 0;
    OK(vq_sq_ranges(sq, &vmin, &vmax, &rd));
    if (metric == VQ_METRIC_COSINE) {
        for (size_t j = 0; j < D; j++) CHECK(vmin[j] >= -1.0f && vmax[j] <= 1.0f); /* unit rows' ranges */
    }
    quantizer qz = {"sq", vq_sq_code_size(sq), metric, sq_encode, sq_decode, sq_search, sq_distances, sq};
    float dist[NQ * K], dist2[NQ * K];
    int64_t lab[NQ * K], lab2[NQ * K];
    uint8_t *codes = check_quantizer(&qz, x, q, dist, lab);
    if (metric == VQ_METRIC_COSINE) {
        /* A zero vector stays zero: it decodes within half a cell of 0. */
        float zero[D], back[D];
        uint8_t zc[D];
        memset(zero, 0, sizeof zero);
        OK(vq_sq_encode(sq, zero, D, zc, D));
        OK(vq_sq_decode(sq, zc, D, back, D));
        for (size_t j = 0; j < D; j++) {
            float clamped = vmin[j] > 0 ? vmin[j] : (vmax[j] < 0 ? vmax[j] : 0.0f);
            CHECK(fabsf(back[j] - clamped) <= (vmax[j] - vmin[j]) / 510.0f * 1.001f + 1e-7f);
        }
    }

    char *path = join(tmp, metric == VQ_METRIC_COSINE ? "metrics_sq_cos.vqm" : "metrics_sq_ip.vqm");
    OK(vq_sq_save(sq, path));
    vq_sq *loaded = NULL;
    OK(vq_sq_load(path, &loaded));
    CHECK(vq_sq_metric(loaded) == metric);
    OK(vq_sq_search(loaded, q, NQ * D, codes, N * qz.code_size, K, dist2, NQ * K, lab2, NQ * K));
    CHECK(memcmp(dist, dist2, sizeof dist) == 0 && memcmp(lab, lab2, sizeof lab) == 0);
    vq_sq *built = NULL;
    OK(vq_sq_from_ranges_metric(metric, 8, vmin, D, vmax, D, &built));
    CHECK(vq_sq_metric(built) == metric);
    OK(vq_sq_search(built, q, NQ * D, codes, N * qz.code_size, K, dist2, NQ * K, lab2, NQ * K));
    CHECK(memcmp(dist, dist2, sizeof dist) == 0 && memcmp(lab, lab2, sizeof lab) == 0);

    vq_sq_free(built);
    vq_sq_free(loaded);
    vq_sq_free(sq);
    free(path);
    free(codes);
}

static void check_bad_metric(const float *x) {
    vq_pq *pq = (vq_pq *)(uintptr_t)0x1;
    vq_sq *sq = (vq_sq *)(uintptr_t)0x1;
    EXPECT_STATUS(vq_pq_train_metric(3, D, 6, 64, x, N * D, NULL, &pq), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("metric = 3 is out of range");
    EXPECT_MESSAGE("VQ_METRIC_L2 (0), VQ_METRIC_INNER_PRODUCT (1) or VQ_METRIC_COSINE (2)");
    float cent[64 * D];
    memset(cent, 0, sizeof cent);
    EXPECT_STATUS(vq_pq_from_centroids_metric(7, D, 6, 64, cent, 64 * D, &pq), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("metric = 7");
    EXPECT_STATUS(vq_sq_train_metric(UINT32_MAX, 8, D, x, N * D, &sq), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("metric = 4294967295");
    float lo[2] = {0.0f, 0.0f}, hi[2] = {1.0f, 1.0f};
    EXPECT_STATUS(vq_sq_from_ranges_metric(3, 8, lo, 2, hi, 2, &sq), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("metric = 3");
    float d = 7.0f;
    int64_t l = 7;
    EXPECT_STATUS(vq_knn(3, D, x, D, x, N * D, 1, &d, 1, &l, 1), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("metric = 3");
    CHECK(pq == (vq_pq *)(uintptr_t)0x1 && sq == (vq_sq *)(uintptr_t)0x1 && d == 7.0f && l == 7);
    CHECK(vq_pq_metric(NULL) == UINT32_MAX && vq_sq_metric(NULL) == UINT32_MAX);
    /* The calls without a metric mean L2. */
    OK(vq_sq_train(8, D, x, N * D, &sq));
    CHECK(vq_sq_metric(sq) == VQ_METRIC_L2);
    vq_sq_free(sq);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s TMP_DIR\n", argv[0]);
        return 2;
    }
    CHECK(VQ_VERSION_MINOR >= 2); /* the release that added metrics */
    float *x = rows(N, D);
    float *q = rows(NQ, D);
    check_exact(x, q);
    uint32_t metrics[2] = {VQ_METRIC_INNER_PRODUCT, VQ_METRIC_COSINE};
    for (int m = 0; m < 2; m++) {
        check_pq(metrics[m], x, q, argv[1]);
        check_sq(metrics[m], x, q, argv[1]);
    }
    check_bad_metric(x);
    free(x);
    free(q);
    printf("metrics: ok\n");
    return 0;
}
