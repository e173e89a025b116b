/* RaBitQ through the C ABI, checked against brute-force oracles written here in C: a
 * quantizer trained by each metric at 1, 4 and 9 bits on seeded rows around an offset;
 * its rotation orthogonal and its centroid the rows' mean; the estimates equal to the
 * distances and, for most codes, within their bounds of the exact scores (for all of them
 * with a large epsilon); decode closer to the rows as bits grow; the search ranked by the
 * estimates; the refined search with a large epsilon giving exactly the oracle's top k;
 * the query-time setters; model files in memory and on disk; a quantizer from its parts;
 * and the error paths, with nothing written.
 *
 * usage: rabitq TMP_DIR */
#include <math.h>

#include "testutil.h"

enum { D = 40, N = 800, NQ = 16, K = 10 };

static uint32_t rng_state = 4242;

/* Rows around an offset (so the centroid matters), scaled by a seeded factor in 0.5..2
 * (so the metrics rank differently). */
static float *rows(size_t n) {
    float *x = (float *)malloc(n * D * sizeof(float));
    CHECK(x != NULL);
    for (size_t i = 0; i < n; i++) {
        float scale = 0.5f + 1.5f * lcg_uniform(&rng_state);
        for (size_t j = 0; j < D; j++) x[i * D + j] = 0.25f + scale * (lcg_uniform(&rng_state) - 0.5f);
    }
    return x;
}

/* The oracle's score of q against x: what the estimates estimate and the refined search
 * reports. Smaller is better for L2 only. */
static double score(uint32_t metric, const float *q, const float *x) {
    if (metric == VQ_METRIC_L2) return l2sq(q, x, D);
    double s = dot(q, x, D);
    return metric == VQ_METRIC_COSINE ? s / sqrt(dot(q, q, D) * dot(x, x, D)) : s;
}

/* How far the library's f32 exact scores may be from the oracle's. */
static double tol(double want) { return 1e-5 * (1.0 + fabs(want)); }

/* The oracle's top k of query q (ids, best first; ties to the lower id). */
static void top_k(uint32_t metric, const float *q, const float *x, int64_t *ids) {
    double best[K];
    for (size_t i = 0; i < K; i++) ids[i] = -1;
    for (size_t r = 0; r < N; r++) {
        double s = score(metric, q, x + r * D);
        size_t at = K;
        while (at > 0 && (ids[at - 1] == -1 || better(metric, s, best[at - 1]))) at--;
        if (at == K) continue;
        for (size_t i = K - 1; i > at; i--) {
            ids[i] = ids[i - 1];
            best[i] = best[i - 1];
        }
        ids[at] = (int64_t)r;
        best[at] = s;
    }
}

static double recall(const int64_t *want, const int64_t *got) {
    size_t hit = 0;
    for (size_t q = 0; q < NQ; q++)
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++) hit += got[q * K + i] == want[q * K + j];
    return (double)hit / (double)(NQ * K);
}

/* Ids valid and distinct, scores ordered by the metric. */
static void check_ranked(uint32_t metric, const float *dist, const int64_t *lab) {
    for (size_t i = 0; i < K; i++) {
        CHECK(lab[i] >= 0 && lab[i] < N);
        for (size_t j = 0; j < i; j++) CHECK(lab[j] != lab[i]);
        if (i > 0) CHECK(!better(metric, dist[i], dist[i - 1]));
    }
}

/* The fraction of codes whose interval est +- half holds the oracle's score, over every
 * query: the full estimate (`full`) or the 1-bit one. Also checks that the full estimate
 * is vq_rabitq_distances, bit for bit. */
static double inside(const vq_rabitq *h, uint32_t metric, int full, const float *x, const float *q,
                     const uint8_t *codes, size_t cs) {
    float *est = (float *)malloc(N * sizeof(float)), *half = (float *)malloc(N * sizeof(float));
    float *dist = (float *)malloc(N * sizeof(float));
    CHECK(est != NULL && half != NULL && dist != NULL);
    size_t in = 0;
    for (size_t i = 0; i < NQ; i++) {
        const float *qi = q + i * D;
        if (full) {
            OK(vq_rabitq_estimate(h, qi, D, codes, N * cs, est, N, half, N));
            OK(vq_rabitq_distances(h, qi, D, codes, N * cs, dist, N));
            CHECK(memcmp(est, dist, N * sizeof(float)) == 0);
        } else {
            OK(vq_rabitq_estimate_sign(h, qi, D, codes, N * cs, est, N, half, N));
        }
        for (size_t r = 0; r < N; r++) {
            double want = score(metric, qi, x + r * D);
            CHECK(half[r] >= 0 && isfinite(est[r]));
            in += fabs(want - (double)est[r]) <= (double)half[r] + tol(want);
        }
    }
    free(est);
    free(half);
    free(dist);
    return (double)in / (double)(NQ * N);
}

static void search(const vq_rabitq *h, const float *q, const uint8_t *codes, size_t cs, float *dist, int64_t *lab) {
    OK(vq_rabitq_search(h, q, NQ * D, codes, N * cs, K, dist, NQ * K, lab, NQ * K));
}

static size_t refine(const vq_rabitq *h, const float *q, const uint8_t *codes, size_t cs, const float *x,
                     float *dist, int64_t *lab) {
    size_t reranked = 0;
    OK(vq_rabitq_search_refine(h, q, NQ * D, codes, N * cs, K, x, N * D, dist, NQ * K, lab, NQ * K, &reranked));
    CHECK(reranked > 0 && reranked <= (size_t)NQ * N);
    return reranked;
}

static void check(uint32_t metric, uint32_t bits, const float *x, const float *q, const int64_t *truth,
                  const char *tmp) {
    vq_rabitq_params p = vq_rabitq_params_default();
    CHECK(p.seed == 1234 && p.qb == 4 && p.epsilon == 1.9f && p.centroid == NULL && p.centroid_len == 0);
    p.seed = 42;
    vq_rabitq *h = NULL;
    OK(vq_rabitq_train(metric, D, bits, x, N * D, &p, &h));
    size_t cs = vq_rabitq_code_size(h), plane = 8 * ((D + 63) / 64);
    CHECK(cs == (bits == 1 ? plane + 12 : bits * plane + 20));
    CHECK(vq_rabitq_dim(h) == D && vq_rabitq_bits(h) == bits && vq_rabitq_metric(h) == metric);
    CHECK(vq_rabitq_query_bits(h) == 4 && vq_rabitq_epsilon(h) == 1.9f);

    /* The rotation is orthogonal; the centroid is the mean of the rows (unit rows under
     * cosine). */
    const float *r = NULL, *c = NULL;
    size_t r_len = 0, c_len = 0;
    OK(vq_rabitq_rotation(h, &r, &r_len));
    OK(vq_rabitq_centroid(h, &c, &c_len));
    CHECK(r_len == D * D && c_len == D);
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            double g = 0;
            for (size_t o = 0; o < D; o++) g += (double)r[o * D + i] * (double)r[o * D + j];
            CHECK(fabs(g - (i == j ? 1.0 : 0.0)) < 1e-4);
        }
    for (size_t j = 0; j < D; j++) {
        double m = 0;
        for (size_t i = 0; i < N; i++)
            m += metric == VQ_METRIC_COSINE ? x[i * D + j] / sqrt(dot(x + i * D, x + i * D, D)) : x[i * D + j];
        CHECK(fabs(m / N - (double)c[j]) < 1e-6);
    }

    uint8_t *codes = (uint8_t *)malloc(N * cs);
    float *dec = (float *)malloc(N * D * sizeof(float));
    CHECK(codes != NULL && dec != NULL);
    OK(vq_rabitq_encode(h, x, N * D, codes, N * cs));

    /* Decode projects the residual on its codeword: never longer than the residual, and
     * closer to the (unit, under cosine) row as the codeword's grid gets finer. */
    OK(vq_rabitq_decode(h, codes, N * cs, dec, N * D));
    double err = 0, energy = 0;
    for (size_t i = 0; i < N; i++) {
        double s = metric == VQ_METRIC_COSINE ? 1.0 / sqrt(dot(x + i * D, x + i * D, D)) : 1.0, res = 0, rec = 0;
        for (size_t j = 0; j < D; j++) {
            double xi = x[i * D + j] * s, y = dec[i * D + j];
            err += (xi - y) * (xi - y);
            res += (xi - c[j]) * (xi - c[j]);
            rec += (y - c[j]) * (y - c[j]);
        }
        energy += res;
        CHECK(rec <= res * (1 + 1e-5) + 1e-9);
    }
    double rel = err / energy, max_rel = bits == 1 ? 0.5 : bits == 4 ? 0.02 : 1e-4;
    printf("metric %u bits %u: decode error %.2e of the residuals' energy\n", (unsigned)metric, (unsigned)bits, rel);
    CHECK(rel < max_rel);

    /* Estimates: vq_rabitq_distances bit for bit; the papers' interval at epsilon 1.9 holds
     * for about 94% of codes (a normal tail), at 20 for every one. */
    double in_full = inside(h, metric, 1, x, q, codes, cs), in_sign = inside(h, metric, 0, x, q, codes, cs);
    printf("metric %u bits %u: inside the bound at 1.9: %.4f full, %.4f 1-bit\n", (unsigned)metric, (unsigned)bits,
           in_full, in_sign);
    CHECK(in_full >= 0.88 && in_sign >= 0.85);
    OK(vq_rabitq_set_epsilon(h, 20.0f));
    CHECK(vq_rabitq_epsilon(h) == 20.0f);
    CHECK(inside(h, metric, 1, x, q, codes, cs) == 1.0 && inside(h, metric, 0, x, q, codes, cs) == 1.0);

    /* Refined with epsilon 20: every bound holds, so exactly the oracle's top k, with the
     * oracle's scores. */
    float dist[NQ * K], dist2[NQ * K];
    int64_t lab[NQ * K], lab2[NQ * K];
    size_t all = refine(h, q, codes, cs, x, dist, lab);
    for (size_t i = 0; i < NQ; i++) {
        check_ranked(metric, dist + i * K, lab + i * K);
        for (size_t j = 0; j < K; j++) {
            double want = score(metric, q + i * D, x + (size_t)lab[i * K + j] * D);
            CHECK(lab[i * K + j] == truth[i * K + j] && fabs((double)dist[i * K + j] - want) <= tol(want));
        }
    }
    /* At 1.9 fewer are re-ranked, and nearly every true neighbour is still found. */
    OK(vq_rabitq_set_epsilon(h, 1.9f));
    size_t some = refine(h, q, codes, cs, x, dist, lab);
    double r_refined = recall(truth, lab);
    printf("metric %u bits %u: refined at 1.9: recall@10 %.3f, re-ranked %zu (%zu at 20) of %d\n", (unsigned)metric,
           (unsigned)bits, r_refined, some, all, NQ * N);
    CHECK(some <= all && r_refined >= 0.95);

    /* The search ranks by the full estimates: valid, ordered, each score the code's
     * vq_rabitq_distances, and with recall growing with the bits. */
    search(h, q, codes, cs, dist, lab);
    float *est = (float *)malloc(N * sizeof(float));
    CHECK(est != NULL);
    for (size_t i = 0; i < NQ; i++) {
        check_ranked(metric, dist + i * K, lab + i * K);
        OK(vq_rabitq_distances(h, q + i * D, D, codes, N * cs, est, N));
        for (size_t j = 0; j < K; j++) CHECK(dist[i * K + j] == est[lab[i * K + j]]);
    }
    free(est);
    double r_search = recall(truth, lab);
    printf("metric %u bits %u: search recall@10 %.3f\n", (unsigned)metric, (unsigned)bits, r_search);
    CHECK(r_search >= (bits == 1 ? 0.3 : bits == 4 ? 0.7 : 0.95));
    /* Past the codes: the metric's sentinel. */
    float d5[5];
    int64_t l5[5];
    OK(vq_rabitq_search(h, q, D, codes, 3 * cs, 5, d5, 5, l5, 5));
    float worst = metric == VQ_METRIC_L2 ? INFINITY : -INFINITY;
    CHECK(l5[2] >= 0 && l5[2] < 3 && l5[3] == -1 && l5[4] == -1 && d5[3] == worst && d5[4] == worst);

    /* A float query, then qb 8: both search, and the setting reads back. */
    OK(vq_rabitq_set_query_bits(h, 0));
    CHECK(vq_rabitq_query_bits(h) == 0);
    search(h, q, codes, cs, dist2, lab2);
    CHECK(recall(truth, lab2) >= r_search - 0.1);
    OK(vq_rabitq_set_query_bits(h, 8));

    /* Model files: the buffer and the file hold the same bytes; both load to a quantizer
     * with the metric and settings, which searches alike. */
    search(h, q, codes, cs, dist, lab);
    char *path = join(tmp, "rabitq_model.vqm");
    OK(vq_rabitq_save(h, path));
    size_t size = 0, written = 0, file_len = 0;
    OK(vq_rabitq_serialized_size(h, &size));
    uint8_t *buf = (uint8_t *)malloc(size);
    CHECK(buf != NULL);
    OK(vq_rabitq_save_buffer(h, buf, size, &written));
    uint8_t *file = read_file(path, &file_len);
    CHECK(written == size && file_len == size && memcmp(buf, file, size) == 0);
    vq_rabitq *loaded = NULL, *from_buf = NULL;
    OK(vq_rabitq_load(path, &loaded));
    OK(vq_rabitq_load_buffer(buf, size, &from_buf));
    vq_rabitq *both[2] = {loaded, from_buf};
    uint8_t *codes2 = (uint8_t *)malloc(N * cs);
    CHECK(codes2 != NULL);
    for (int i = 0; i < 2; i++) {
        CHECK(vq_rabitq_metric(both[i]) == metric && vq_rabitq_bits(both[i]) == bits);
        CHECK(vq_rabitq_query_bits(both[i]) == 8 && vq_rabitq_epsilon(both[i]) == 1.9f);
        OK(vq_rabitq_encode(both[i], x, N * D, codes2, N * cs));
        CHECK(memcmp(codes, codes2, N * cs) == 0);
        search(both[i], q, codes, cs, dist2, lab2);
        CHECK(memcmp(dist, dist2, sizeof dist) == 0 && memcmp(lab, lab2, sizeof lab) == 0);
    }

    /* From its own parts (copied): the same codes; with qb 8 set, the same search. */
    vq_rabitq *parts = NULL;
    OK(vq_rabitq_from_parts(metric, D, bits, r, r_len, c, c_len, &parts));
    CHECK(vq_rabitq_query_bits(parts) == 4 && vq_rabitq_epsilon(parts) == 1.9f);
    OK(vq_rabitq_encode(parts, x, N * D, codes2, N * cs));
    CHECK(memcmp(codes, codes2, N * cs) == 0);
    OK(vq_rabitq_set_query_bits(parts, 8));
    search(parts, q, codes, cs, dist2, lab2);
    CHECK(memcmp(dist, dist2, sizeof dist) == 0 && memcmp(lab, lab2, sizeof lab) == 0);
    vq_rabitq_free(parts);

    vq_rabitq_free(from_buf);
    vq_rabitq_free(loaded);
    vq_rabitq_free(h);
    free(codes2);
    free(file);
    free(buf);
    free(path);
    free(dec);
    free(codes);
}

static void check_errors(const float *x, const char *tmp) {
    vq_rabitq *const sentinel = (vq_rabitq *)(uintptr_t)0x1;
    vq_rabitq *out = sentinel;
    vq_rabitq_params p = vq_rabitq_params_default();

    EXPECT_STATUS(vq_rabitq_train(VQ_METRIC_L2, D, 2, x, N * D, &p, NULL), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("out is NULL");
    EXPECT_STATUS(vq_rabitq_train(VQ_METRIC_L2, D, 2, NULL, N * D, &p, &out), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("data is NULL");
    EXPECT_STATUS(vq_rabitq_train(3, D, 2, x, N * D, &p, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("metric = 3 is out of range");
    EXPECT_STATUS(vq_rabitq_train(VQ_METRIC_L2, D, 10, x, N * D, &p, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("RaBitQ bits = 10 is out of range, accepted: 1..=9");
    EXPECT_STATUS(vq_rabitq_train(VQ_METRIC_L2, D, 2, x, N * D - 3, &p, &out), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("31997 elements");
    p.qb = 9;
    EXPECT_STATUS(vq_rabitq_train(VQ_METRIC_L2, D, 2, x, N * D, &p, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("qb (query bits) = 9");
    p.qb = 4;
    p.epsilon = -1.0f;
    EXPECT_STATUS(vq_rabitq_train(VQ_METRIC_L2, D, 2, x, N * D, &p, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("finite and >= 0");
    p.epsilon = 1.9f;
    p.centroid = x;
    p.centroid_len = D - 1;
    EXPECT_STATUS(vq_rabitq_train(VQ_METRIC_L2, D, 2, x, N * D, &p, &out), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("centroid has dimension 39, expected 40");
    p.centroid = NULL;
    p.centroid_len = D;
    EXPECT_STATUS(vq_rabitq_train(VQ_METRIC_L2, D, 2, x, N * D, &p, &out), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("centroid is NULL");
    /* A centroid and no data: trained all the same. */
    p.centroid = x;
    vq_rabitq *no_data = NULL;
    OK(vq_rabitq_train(VQ_METRIC_L2, D, 2, NULL, 0, &p, &no_data));
    const float *c = NULL;
    size_t c_len = 0;
    OK(vq_rabitq_centroid(no_data, &c, &c_len));
    CHECK(c_len == D && memcmp(c, x, D * sizeof(float)) == 0);
    vq_rabitq_free(no_data);
    p = vq_rabitq_params_default();
    EXPECT_STATUS(vq_rabitq_train(VQ_METRIC_L2, D, 2, NULL, 0, &p, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("no centroid given");
    CHECK(out == sentinel);

    /* Getters, setters and free with NULL. */
    CHECK(vq_rabitq_dim(NULL) == 0 && vq_rabitq_bits(NULL) == 0 && vq_rabitq_code_size(NULL) == 0);
    CHECK(vq_rabitq_metric(NULL) == UINT32_MAX && vq_rabitq_query_bits(NULL) == UINT32_MAX);
    CHECK(isnan(vq_rabitq_epsilon(NULL)));
    EXPECT_STATUS(vq_rabitq_set_epsilon(NULL, 1.0f), VQ_STATUS_NULL_POINTER);
    vq_rabitq_free(NULL);

    vq_rabitq *h = NULL;
    OK(vq_rabitq_train(VQ_METRIC_L2, D, 3, x, N * D, &p, &h));
    size_t cs = vq_rabitq_code_size(h);

    /* Refused settings leave the handle as it was. */
    EXPECT_STATUS(vq_rabitq_set_query_bits(h, 12), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("1..=8 quantized, or 0 for a float query");
    EXPECT_STATUS(vq_rabitq_set_epsilon(h, NAN), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("epsilon");
    CHECK(vq_rabitq_query_bits(h) == 4 && vq_rabitq_epsilon(h) == 1.9f);

    /* Parts that do not make a quantizer. */
    const float *r = NULL;
    size_t r_len = 0;
    OK(vq_rabitq_rotation(h, &r, &r_len));
    OK(vq_rabitq_centroid(h, &c, &c_len));
    float *skew = (float *)malloc(r_len * sizeof(float));
    CHECK(skew != NULL);
    memcpy(skew, r, r_len * sizeof(float));
    skew[3] += 0.2f;
    EXPECT_STATUS(vq_rabitq_from_parts(VQ_METRIC_L2, D, 3, skew, r_len, c, c_len, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("an orthogonal matrix");
    skew[3] = NAN;
    EXPECT_STATUS(vq_rabitq_from_parts(VQ_METRIC_L2, D, 3, skew, r_len, c, c_len, &out), VQ_STATUS_NON_FINITE);
    EXPECT_MESSAGE("element 3");
    EXPECT_STATUS(vq_rabitq_from_parts(VQ_METRIC_L2, D, 3, r, r_len - 1, c, c_len, &out), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("rotation has length 1599, expected exactly 1600");
    EXPECT_STATUS(vq_rabitq_from_parts(VQ_METRIC_L2, D, 0, r, r_len, c, c_len, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("RaBitQ bits = 0");
    CHECK(out == sentinel);

    /* Bad lengths, overlaps, NaN queries: nothing written. */
    uint8_t codes[8 * 44];
    CHECK(cs <= 44);
    memset(codes, 0xEE, sizeof codes);
    EXPECT_STATUS(vq_rabitq_encode(h, x, 8 * D, codes, 8 * cs - 1), VQ_STATUS_BAD_LENGTH);
    for (size_t i = 0; i < sizeof codes; i++) CHECK(codes[i] == 0xEE);
    OK(vq_rabitq_encode(h, x, 8 * D, codes, 8 * cs));
    float est[8] = {7, 7, 7, 7, 7, 7, 7, 7}, half[8] = {7, 7, 7, 7, 7, 7, 7, 7};
    EXPECT_STATUS(vq_rabitq_estimate(h, x, D, codes, 8 * cs, est, 8, half, 7), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("half has length 7, expected exactly 8");
    EXPECT_STATUS(vq_rabitq_estimate(h, x, D, codes, 8 * cs, est, 8, est, 8), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("half overlaps est");
    EXPECT_STATUS(vq_rabitq_estimate_sign(h, x, D - 1, codes, 8 * cs, est, 8, half, 8), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("query has length 39, expected exactly 40");
    float q[D];
    memcpy(q, x, sizeof q);
    q[5] = NAN;
    EXPECT_STATUS(vq_rabitq_distances(h, q, D, codes, 8 * cs, est, 8), VQ_STATUS_NON_FINITE);
    for (size_t i = 0; i < 8; i++) CHECK(est[i] == 7 && half[i] == 7);
    float dist[4] = {7, 7, 7, 7};
    int64_t lab[4] = {7, 7, 7, 7};
    size_t reranked = 77;
    EXPECT_STATUS(vq_rabitq_search(h, q, D, codes, 8 * cs, 2, dist, 2, lab, 2), VQ_STATUS_NON_FINITE);
    EXPECT_STATUS(vq_rabitq_search(h, x, D, codes, 8 * cs, 0, dist, 0, lab, 0), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("k = 0");
    EXPECT_STATUS(vq_rabitq_search_refine(h, x, D, codes, 8 * cs, 2, x, 7 * D, dist, 2, lab, 2, &reranked),
                  VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("vectors has length 280, expected exactly 320");
    EXPECT_STATUS(
        vq_rabitq_search_refine(h, x, D, codes, 8 * cs, 2, x, 8 * D, dist, 2, lab, 2, (size_t *)(void *)dist),
        VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("reranked overlaps distances");
    CHECK(dist[0] == 7 && lab[0] == 7 && reranked == 77);

    /* Model files of the other kinds name the call that loads them, both ways. */
    char *rabitq_path = join(tmp, "rabitq_errors.vqm"), *sq_path = join(tmp, "rabitq_errors_sq.vqm");
    OK(vq_rabitq_save(h, rabitq_path));
    vq_sq *sq = NULL;
    OK(vq_sq_train(8, D, x, N * D, &sq));
    OK(vq_sq_save(sq, sq_path));
    vq_sq_free(sq);
    EXPECT_STATUS(vq_rabitq_load(sq_path, &out), VQ_STATUS_WRONG_KIND);
    EXPECT_MESSAGE("holds a scalar quantizer (kind 2), expected a RaBitQ quantizer (use vq_sq_load)");
    vq_pq *pq_out = NULL;
    EXPECT_STATUS(vq_pq_load(rabitq_path, &pq_out), VQ_STATUS_WRONG_KIND);
    EXPECT_MESSAGE("holds a RaBitQ quantizer (kind 4), expected a product quantizer (use vq_rabitq_load)");
    vq_sq *sq_out = NULL;
    EXPECT_STATUS(vq_sq_load(rabitq_path, &sq_out), VQ_STATUS_WRONG_KIND);
    EXPECT_MESSAGE("(use vq_rabitq_load)");
    vq_opq *opq_out = NULL;
    EXPECT_STATUS(vq_opq_load(rabitq_path, &opq_out), VQ_STATUS_WRONG_KIND);
    EXPECT_MESSAGE("expected an OPQ quantizer (use vq_rabitq_load)");
    CHECK(pq_out == NULL && sq_out == NULL && opq_out == NULL);
    /* Truncated or corrupt: VQ_STATUS_FORMAT; too small a buffer: nothing written. */
    size_t size = 0, written = 77;
    OK(vq_rabitq_serialized_size(h, &size));
    uint8_t *buf = (uint8_t *)malloc(size);
    CHECK(buf != NULL);
    memset(buf, 0xAB, size);
    EXPECT_STATUS(vq_rabitq_save_buffer(h, buf, size - 1, &written), VQ_STATUS_BUFFER_TOO_SMALL);
    CHECK(written == 77 && buf[0] == 0xAB);
    OK(vq_rabitq_save_buffer(h, buf, size, &written));
    for (size_t len = 0; len < size; len += 61) EXPECT_STATUS(vq_rabitq_load_buffer(buf, len, &out), VQ_STATUS_FORMAT);
    buf[size - 5] ^= 0x40;
    EXPECT_STATUS(vq_rabitq_load_buffer(buf, size, &out), VQ_STATUS_FORMAT);
    CHECK(out == sentinel);

    free(buf);
    free(rabitq_path);
    free(sq_path);
    free(skew);
    vq_rabitq_free(h);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s TMP_DIR\n", argv[0]);
        return 2;
    }
    CHECK(VQ_VERSION_MINOR >= 4); /* the release that added RaBitQ */
    float *x = rows(N);
    float *q = rows(NQ);
    const uint32_t metrics[3] = {VQ_METRIC_L2, VQ_METRIC_INNER_PRODUCT, VQ_METRIC_COSINE};
    const uint32_t bits[3] = {1, 4, 9};
    int64_t truth[NQ * K];
    for (int m = 0; m < 3; m++) {
        for (size_t i = 0; i < NQ; i++) top_k(metrics[m], q + i * D, x, truth + i * K);
        for (int b = 0; b < 3; b++) check(metrics[m], bits[b], x, q, truth, argv[1]);
    }
    check_errors(x, argv[1]);
    free(x);
    free(q);
    printf("rabitq: ok\n");
    return 0;
}
