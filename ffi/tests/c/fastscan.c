/* 4-bit PQ fast scan through the C ABI, checked against brute-force oracles written here in
 * C: a quantizer of 16 centroids per sub-quantizer trained by each metric; its codes
 * packed and unpacked back; the search with a candidate list covering every code equal to
 * an ADC top-k computed here from the decoded centroids (and, bit for bit, to
 * vq_pq_search); the default search finding most of it; the refined search with every
 * candidate equal to the exact top-k of the full vectors; the caller-scratch forms equal
 * to the others bit for bit; hostile packed bytes searched without harm; and the error
 * paths, with nothing written.
 *
 * usage: fastscan TMP_DIR */
#include <math.h>

#include "testutil.h"

enum { D = 24, M = 6, DSUB = D / M, KSUB = 16, N = 700, NQ = 7, K = 10 };

static uint32_t rng_state = 777;

/* Rows scaled by a seeded factor in 0.5..2, so the metrics rank differently. */
static float *rows(size_t n) {
    float *x = (float *)malloc(n * D * sizeof(float));
    CHECK(x != NULL);
    for (size_t i = 0; i < n; i++) {
        float scale = 0.5f + 1.5f * lcg_uniform(&rng_state);
        for (size_t j = 0; j < D; j++) x[i * D + j] = scale * (lcg_uniform(&rng_state) - 0.5f) + 0.1f * (float)(j % 3);
    }
    return x;
}

/* Sub-code i of a nibble code: the high nibble first. */
static size_t sub_code(const uint8_t *code, size_t i) { return (code[i / 2] >> (4 - 4 * (i & 1))) & 15u; }

/* What the library reports for query q against row x: ‖q − x‖², q·x, or q·x/‖q‖ against
 * a code's reconstruction (which reconstructs a unit vector under cosine), q·x/(‖q‖‖x‖)
 * against a full vector. */
static double score(uint32_t metric, const float *q, const float *x, int full) {
    if (metric == VQ_METRIC_L2) return l2sq(q, x, D);
    double s = dot(q, x, D);
    if (metric == VQ_METRIC_INNER_PRODUCT) return s;
    return full ? s / sqrt(dot(q, q, D) * dot(x, x, D)) : s / sqrt(dot(q, q, D));
}

/* The oracle's K best scores for one query over n rows, best first. */
static void best_scores(uint32_t metric, const float *q, const float *rows_, size_t n, int full, double *best) {
    size_t have = 0;
    for (size_t r = 0; r < n; r++) {
        double s = score(metric, q, rows_ + r * D, full);
        size_t at = have < K ? have : K;
        while (at > 0 && better(metric, s, best[at - 1])) at--;
        if (at == K) continue;
        size_t last = have < K ? have : K - 1;
        for (size_t i = last; i > at; i--) best[i] = best[i - 1];
        best[at] = s;
        if (have < K) have++;
    }
}

static double tol(double want) { return 1e-4 * (1.0 + fabs(want)); }

/* The results of every query are the oracle's top K: each score is the oracle's score of
 * its label (rows_ as the oracle sees them), and the i-th score is the oracle's i-th best
 * (so the set is the top K up to ties within rounding). */
static void check_top_k(uint32_t metric, const float *q, const float *rows_, int full, const float *dist,
                        const int64_t *lab) {
    for (size_t i = 0; i < NQ; i++) {
        double best[K];
        best_scores(metric, q + i * D, rows_, N, full, best);
        for (size_t j = 0; j < K; j++) {
            int64_t l = lab[i * K + j];
            CHECK(l >= 0 && l < N);
            for (size_t t = 0; t < j; t++) CHECK(lab[i * K + t] != l);
            double own = score(metric, q + i * D, rows_ + (size_t)l * D, full);
            CHECK(fabs(dist[i * K + j] - own) <= tol(own));
            CHECK(fabs(dist[i * K + j] - best[j]) <= tol(best[j]));
        }
    }
}

/* The decoded rows of the codes, from the centroids view and the nibbles: the oracle's own
 * decoder. */
static float *decoded(const vq_pq *pq, const uint8_t *codes) {
    const float *cent = NULL;
    size_t cent_len = 0;
    OK(vq_pq_centroids(pq, &cent, &cent_len));
    CHECK(cent_len == (size_t)KSUB * D);
    float *y = (float *)malloc((size_t)N * D * sizeof(float));
    CHECK(y != NULL);
    size_t cs = vq_pq_code_size(pq);
    for (size_t r = 0; r < N; r++)
        for (size_t i = 0; i < M; i++)
            memcpy(y + r * D + i * DSUB, cent + (i * KSUB + sub_code(codes + r * cs, i)) * DSUB, DSUB * sizeof(float));
    return y;
}

static void check_metric(uint32_t metric, const float *x, const float *q) {
    vq_train_params tp = vq_train_params_default();
    tp.iterations = 8;
    vq_pq *pq = NULL;
    OK(vq_pq_train_metric(metric, D, M, KSUB, x, (size_t)N * D, &tp, &pq));
    size_t cs = vq_pq_code_size(pq);
    CHECK(cs == M / 2);
    uint8_t *codes = (uint8_t *)malloc(N * cs), *back = (uint8_t *)malloc(N * cs);
    CHECK(codes != NULL && back != NULL);
    OK(vq_pq_encode(pq, x, (size_t)N * D, codes, N * cs));

    /* Packing: ceil(N/32) blocks of 32·ceil(M/2) bytes, and the codes back. */
    size_t plen = 0;
    OK(vq_pq_packed_len(M, N, &plen));
    CHECK(plen == (N + 31) / 32 * 32 * ((M + 1) / 2));
    uint8_t *packed = (uint8_t *)malloc(plen);
    CHECK(packed != NULL);
    OK(vq_pq_pack_codes(pq, codes, N * cs, packed, plen));
    OK(vq_pq_unpack_codes(pq, packed, plen, back, N * cs));
    CHECK(memcmp(codes, back, N * cs) == 0);

    float *y = decoded(pq, codes);
    float dist[NQ * K], d2[NQ * K], pdist[NQ * K];
    int64_t lab[NQ * K], l2[NQ * K], plab[NQ * K];

    /* Every code a candidate: the ADC oracle's top k, and vq_pq_search's bits. */
    vq_fast_scan_params all = vq_fast_scan_params_default();
    all.rerank_factor = N;
    OK(vq_pq_search_packed(pq, q, NQ * D, packed, plen, N, K, &all, dist, NQ * K, lab, NQ * K));
    check_top_k(metric, q, y, 0, dist, lab);
    OK(vq_pq_search(pq, q, NQ * D, codes, N * cs, K, d2, NQ * K, l2, NQ * K));
    CHECK(memcmp(dist, d2, sizeof dist) == 0 && memcmp(lab, l2, sizeof lab) == 0);

    /* The caller's scratch: the same bits, whatever it held. */
    size_t slen = 0;
    OK(vq_pq_search_packed_scratch_len(pq, N, K, &all, &slen));
    float *scratch = (float *)malloc(slen * sizeof(float));
    CHECK(scratch != NULL);
    for (size_t i = 0; i < slen; i++) scratch[i] = NAN;
    OK(vq_pq_search_packed_with_scratch(pq, q, NQ * D, packed, plen, N, K, &all, scratch, slen, d2, NQ * K, l2,
                                        NQ * K));
    CHECK(memcmp(dist, d2, sizeof dist) == 0 && memcmp(lab, l2, sizeof lab) == 0);

    /* The defaults (NULL params): most of the float scan's top k, in order. */
    OK(vq_pq_search_packed(pq, q, NQ * D, packed, plen, N, K, NULL, pdist, NQ * K, plab, NQ * K));
    size_t hit = 0;
    for (size_t i = 0; i < NQ; i++)
        for (size_t j = 0; j < K; j++)
            for (size_t t = 0; t < K; t++) hit += plab[i * K + j] == lab[i * K + t];
    CHECK((double)hit / (NQ * K) >= 0.9);
    for (size_t i = 0; i < NQ * K; i++)
        if (i % K > 0) CHECK(!better(metric, pdist[i], pdist[i - 1]));

    /* Refined against the full vectors with every candidate: the exact top k. */
    OK(vq_pq_search_packed_refine(pq, q, NQ * D, packed, plen, N, K, &all, x, (size_t)N * D, dist, NQ * K, lab,
                                  NQ * K));
    check_top_k(metric, q, x, 1, dist, lab);
    OK(vq_pq_search_packed_refine_with_scratch(pq, q, NQ * D, packed, plen, N, K, &all, x, (size_t)N * D, scratch,
                                               slen, d2, NQ * K, l2, NQ * K));
    CHECK(memcmp(dist, d2, sizeof dist) == 0 && memcmp(lab, l2, sizeof lab) == 0);

    free(scratch);
    free(y);
    free(packed);
    free(back);
    free(codes);
    vq_pq_free(pq);
}

/* Hostile packed bytes and every refusal, with nothing written. */
static void check_errors(const float *x, const float *q) {
    vq_train_params tp = vq_train_params_default();
    tp.iterations = 3;
    vq_pq *pq = NULL;
    OK(vq_pq_train(D, M, 5, x, (size_t)N * D, &tp, &pq)); /* ksub 5: nibbles 5..15 are not codes */
    size_t plen = 0, slen = 0;
    OK(vq_pq_packed_len(M, N, &plen));
    uint8_t *junk = (uint8_t *)malloc(plen);
    CHECK(junk != NULL);
    uint32_t s = 99;
    for (size_t i = 0; i < plen; i++) junk[i] = (uint8_t)(lcg_uniform(&s) * 256.0f);
    vq_fast_scan_params p = vq_fast_scan_params_default();
    OK(vq_pq_search_packed_scratch_len(pq, N, K, &p, &slen));
    float *scratch = (float *)malloc(slen * sizeof(float));
    CHECK(scratch != NULL);
    float dist[NQ * K];
    int64_t lab[NQ * K];
    OK(vq_pq_search_packed_with_scratch(pq, q, NQ * D, junk, plen, N, K, &p, scratch, slen, dist, NQ * K, lab,
                                        NQ * K));
    for (size_t i = 0; i < NQ * K; i++) CHECK((lab[i] >= 0 && lab[i] < N && isfinite(dist[i])) || lab[i] == -1);
    OK(vq_pq_search_packed_refine(pq, q, NQ * D, junk, plen, N, K, &p, x, (size_t)N * D, dist, NQ * K, lab, NQ * K));
    for (size_t i = 0; i < NQ * K; i++) CHECK((lab[i] >= 0 && lab[i] < N && isfinite(dist[i])) || lab[i] == -1);

    for (size_t i = 0; i < NQ * K; i++) {
        dist[i] = 7.0f;
        lab[i] = 7;
    }
    EXPECT_STATUS(vq_pq_search_packed(pq, q, NQ * D, NULL, plen, N, K, &p, dist, NQ * K, lab, NQ * K),
                  VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("packed is NULL");
    EXPECT_STATUS(vq_pq_search_packed(pq, q, NQ * D, junk, plen - 1, N, K, &p, dist, NQ * K, lab, NQ * K),
                  VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("packed codes has length");
    EXPECT_STATUS(vq_pq_search_packed_with_scratch(pq, q, NQ * D, junk, plen, N, K, &p, scratch, slen - 1, dist,
                                                   NQ * K, lab, NQ * K),
                  VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("scratch length");
    vq_fast_scan_params zero = p;
    zero.rerank_factor = 0;
    EXPECT_STATUS(vq_pq_search_packed_refine(pq, q, NQ * D, junk, plen, N, K, &zero, x, (size_t)N * D, dist, NQ * K,
                                             lab, NQ * K),
                  VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("rerank_factor = 0");
    EXPECT_STATUS(vq_pq_search_packed_refine(pq, q, NQ * D, junk, plen, N, K, &p, x, (size_t)N * D - 1, dist, NQ * K,
                                             lab, NQ * K),
                  VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("vectors has length");
    for (size_t i = 0; i < NQ * K; i++) CHECK(dist[i] == 7.0f && lab[i] == 7);
    vq_pq_free(pq);

    /* More than 16 centroids per sub-quantizer: no fast scan. */
    OK(vq_pq_train(D, M, 32, x, (size_t)N * D, &tp, &pq));
    EXPECT_STATUS(vq_pq_search_packed_scratch_len(pq, N, K, NULL, &slen), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("2..=16");
    EXPECT_STATUS(vq_pq_search_packed(pq, q, NQ * D, junk, plen, N, K, NULL, dist, NQ * K, lab, NQ * K),
                  VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("ksub (centroids) for fast scan = 32");
    vq_pq_free(pq);
    EXPECT_STATUS(vq_pq_packed_len(0, N, &plen), VQ_STATUS_INVALID_ARGUMENT);
    free(scratch);
    free(junk);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s TMP_DIR\n", argv[0]);
        return 2;
    }
    CHECK(VQ_VERSION_MINOR >= 5); /* the release that added fast scan */
    float *x = rows(N);
    float *q = rows(NQ);
    const uint32_t metrics[3] = {VQ_METRIC_L2, VQ_METRIC_INNER_PRODUCT, VQ_METRIC_COSINE};
    for (int m = 0; m < 3; m++) check_metric(metrics[m], x, q);
    check_errors(x, q);
    free(x);
    free(q);
    printf("fastscan: ok\n");
    return 0;
}
