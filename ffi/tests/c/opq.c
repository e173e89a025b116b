/* OPQ through the C ABI, checked against brute-force oracles written here in C: an OPQ
 * trained by each metric on seeded rows whose variance falls off across the dimensions,
 * encoded, decoded and searched; the search's scores against the decoded vectors (and, in
 * the rotated space, against R q computed here from the rotation view); the distance table
 * scanned through the borrowed PQ view; search with a caller table; model files in memory
 * and on disk; OPQ composed from parts; and the error paths, with nothing written.
 *
 * usage: opq TMP_DIR */
#include <math.h>

#include "testutil.h"

enum { D = 20, N = 600, NQ = 20, K = 10, M = 5, KSUB = 64 };

static uint32_t rng_state = 77;

/* Rows scaled by a seeded factor in 0.5..2 (so the metrics rank differently), dimension j
 * by 1/(1 + j/4) (so the rotation has variance to even out). */
static float *rows(size_t n) {
    float *x = (float *)malloc(n * D * sizeof(float));
    CHECK(x != NULL);
    for (size_t i = 0; i < n; i++) {
        float scale = 0.5f + 1.5f * lcg_uniform(&rng_state);
        for (size_t j = 0; j < D; j++)
            x[i * D + j] = scale * (lcg_uniform(&rng_state) - 0.5f) / (1.0f + (float)j / 4.0f);
    }
    return x;
}

/* The oracle's score of q against x (d floats): smaller is better for L2 only. */
static double score(uint32_t metric, const float *q, const float *x, size_t d) {
    if (metric == VQ_METRIC_L2) return l2sq(q, x, d);
    double s = dot(q, x, d);
    return metric == VQ_METRIC_COSINE ? s / sqrt(dot(q, q, d)) : s;
}

/* How far an f32 score may be from the oracle's: rotating, the PQ table and the scan round
 * at about 1e-6 of the magnitudes summed. */
static double tol(const float *q, const float *x, size_t d) {
    double s = 0;
    for (size_t j = 0; j < d; j++) s += fabs((double)q[j]) * (fabs((double)q[j]) + fabs((double)x[j]));
    return 1e-5 * (1.0 + s + dot(x, x, d));
}

/* One query's top k against the oracle over `n` vectors `v` of `d` floats: ids valid and
 * distinct, scores ordered and equal to the oracle's within rounding, and no vector left
 * out scores better than the k-th. */
static void check_top_k(uint32_t metric, const float *q, const float *v, size_t n, size_t d, const float *dist,
                        const int64_t *lab) {
    double scale = metric == VQ_METRIC_COSINE ? 1.0 / sqrt(dot(q, q, d)) : 1.0;
    for (size_t i = 0; i < K; i++) {
        CHECK(lab[i] >= 0 && (size_t)lab[i] < n);
        for (size_t j = 0; j < i; j++) CHECK(lab[j] != lab[i]);
        if (i > 0) CHECK(!better(metric, dist[i], dist[i - 1]));
        const float *x = v + (size_t)lab[i] * d;
        double want = score(metric, q, x, d), t = tol(q, x, d) * scale;
        if (fabs((double)dist[i] - want) > t) {
            fprintf(stderr, "metric %u rank %zu id %lld: %.9g, oracle %.9g (tol %.3g)\n", (unsigned)metric, i,
                    (long long)lab[i], (double)dist[i], want, t);
            exit(1);
        }
    }
    for (size_t r = 0; r < n; r++) {
        int taken = 0;
        for (size_t i = 0; i < K; i++) taken |= lab[i] == (int64_t)r;
        double s = score(metric, q, v + r * d, d), t = tol(q, v + r * d, d) * scale;
        if (!taken) CHECK(!better(metric, s + (metric == VQ_METRIC_L2 ? t : -t), (double)dist[K - 1]));
    }
}

/* R q for every query (R: d_out x D row-major), in double, rounded to float. */
static float *rotate(const float *r, size_t d_out, const float *q, size_t nq) {
    float *out = (float *)malloc(nq * d_out * sizeof(float));
    CHECK(out != NULL);
    for (size_t i = 0; i < nq; i++)
        for (size_t o = 0; o < d_out; o++) out[i * d_out + o] = (float)dot(r + o * D, q + i * D, D);
    return out;
}

static void search(const vq_opq *h, const float *q, const uint8_t *codes, size_t cs, float *dist, int64_t *lab) {
    OK(vq_opq_search(h, q, NQ * D, codes, N * cs, K, dist, NQ * K, lab, NQ * K));
}

static void check_metric(uint32_t metric, size_t d_out_param, const float *x, const float *q, const char *tmp) {
    vq_opq_params p = vq_opq_params_default();
    CHECK(p.niter == 50 && p.niter_pq == 4 && p.niter_pq_0 == 40 && p.max_train_points == 65536);
    CHECK(p.d_out == 0 && p.seed == 1234 && p.kmeans.iterations == 25);
    p.niter = 8;
    p.niter_pq = 2;
    p.niter_pq_0 = 10;
    p.d_out = d_out_param;
    p.kmeans.iterations = 10;
    p.kmeans.threads = 1;
    vq_opq *opq = NULL;
    OK(vq_opq_train(metric, D, M, KSUB, x, N * D, &p, &opq));
    size_t d_out = d_out_param ? d_out_param : D, cs = vq_opq_code_size(opq);
    CHECK(vq_opq_dim(opq) == D && vq_opq_d_out(opq) == d_out && vq_opq_m(opq) == M && vq_opq_ksub(opq) == KSUB);
    CHECK(vq_opq_metric(opq) == metric && cs == M);

    /* The rotation has orthonormal columns (R^T R = I). */
    const float *r = NULL;
    size_t r_len = 0;
    OK(vq_opq_rotation(opq, &r, &r_len));
    CHECK(r_len == d_out * D);
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            double g = 0;
            for (size_t o = 0; o < d_out; o++) g += (double)r[o * D + i] * (double)r[o * D + j];
            CHECK(fabs(g - (i == j ? 1.0 : 0.0)) < 1e-4);
        }

    /* The borrowed PQ: the rotated space, the same codebook as the centroids view. */
    const vq_pq *pq = vq_opq_pq(opq);
    CHECK(pq != NULL && vq_pq_dim(pq) == d_out && vq_pq_m(pq) == M && vq_pq_metric(pq) == metric);
    const float *cent = NULL, *cent2 = NULL;
    size_t cent_len = 0, cent_len2 = 0;
    OK(vq_opq_centroids(opq, &cent, &cent_len));
    OK(vq_pq_centroids(pq, &cent2, &cent_len2));
    CHECK(cent == cent2 && cent_len == KSUB * d_out && cent_len2 == cent_len);

    uint8_t *codes = (uint8_t *)malloc(N * cs);
    float *dec = (float *)malloc(N * D * sizeof(float));
    float *ydec = (float *)malloc(N * d_out * sizeof(float));
    CHECK(codes != NULL && dec != NULL && ydec != NULL);
    OK(vq_opq_encode(opq, x, N * D, codes, N * cs));
    OK(vq_opq_decode(opq, codes, N * cs, dec, N * D));
    OK(vq_pq_decode(pq, codes, N * cs, ydec, N * d_out));
    float dist[NQ * K], dist2[NQ * K];
    int64_t lab[NQ * K], lab2[NQ * K];
    search(opq, q, codes, cs, dist, lab);

    /* The search against the oracle in the rotated space: R q (here, in double) against the
     * PQ's reconstructions. */
    float *rq = rotate(r, d_out, q, NQ);
    for (size_t i = 0; i < NQ; i++) check_top_k(metric, rq + i * d_out, ydec, N, d_out, dist + i * K, lab + i * K);
    /* And in the input space against the decoded vectors: exact for the similarities (R
     * keeps inner products); for L2 only when d_out = dim, else the score adds the part of
     * the PQ's reconstruction outside R's range, never less. */
    if (metric != VQ_METRIC_L2 || d_out == D) {
        for (size_t i = 0; i < NQ; i++) check_top_k(metric, q + i * D, dec, N, D, dist + i * K, lab + i * K);
    } else {
        for (size_t i = 0; i < NQ * K; i++) {
            const float *xq = q + i / K * D, *xd = dec + (size_t)lab[i] * D;
            CHECK((double)dist[i] >= l2sq(xq, xd, D) - tol(xq, xd, D));
        }
    }

    /* vq_opq_distance_table + vq_pq_adc_scan on the view = vq_opq_distances = the search's
     * scores of its labels: bit for bit under L2 and inner product; under cosine the table
     * carries the 1/|q| that the others apply to each sum, so they agree to its rounding. */
    float *table = (float *)malloc(M * KSUB * sizeof(float));
    float *scan = (float *)malloc(N * sizeof(float));
    float *all = (float *)malloc(N * sizeof(float));
    CHECK(table != NULL && scan != NULL && all != NULL);
    for (size_t i = 0; i < NQ; i += 7) {
        OK(vq_opq_distance_table(opq, q + i * D, D, table, M * KSUB));
        OK(vq_pq_adc_scan(pq, table, M * KSUB, codes, N * cs, scan, N));
        OK(vq_opq_distances(opq, q + i * D, D, codes, N * cs, all, N));
        double bound = 0; /* the largest sum of |entries| a code can select */
        for (size_t s = 0; s < M; s++) {
            double mx = 0;
            for (size_t c = 0; c < KSUB; c++) mx = fmax(mx, fabs((double)table[s * KSUB + c]));
            bound += mx;
        }
        double t = metric == VQ_METRIC_COSINE ? 2.0 * (M + 2) * 1.2e-7 * bound : 0.0;
        for (size_t r = 0; r < N; r++) CHECK(fabs((double)scan[r] - (double)all[r]) <= t);
        for (size_t j = 0; j < K; j++) CHECK(all[lab[i * K + j]] == dist[i * K + j]);
        for (size_t j = 0; j < K; j++) CHECK(fabs((double)scan[lab[i * K + j]] - (double)dist[i * K + j]) <= t);
    }

    /* A caller table of either length: the same results, bit for bit. */
    size_t lens[2] = {vq_opq_search_table_len(opq), d_out + M * KSUB};
    CHECK(lens[0] == 16 * d_out + vq_pq_search_table_len(pq));
    for (int t = 0; t < 2; t++) {
        float *scratch = (float *)malloc(lens[t] * sizeof(float));
        CHECK(scratch != NULL);
        OK(vq_opq_search_with_table(opq, q, NQ * D, codes, N * cs, K, scratch, lens[t], dist2, NQ * K, lab2, NQ * K));
        CHECK(memcmp(dist, dist2, sizeof dist) == 0 && memcmp(lab, lab2, sizeof lab) == 0);
        free(scratch);
    }

    /* Model files: the buffer and the file hold the same bytes; both load to a quantizer
     * that searches alike, with its metric. */
    char *path = join(tmp, "opq_model.vqm");
    OK(vq_opq_save(opq, path));
    size_t size = 0, written = 0, file_len = 0;
    OK(vq_opq_serialized_size(opq, &size));
    uint8_t *buf = (uint8_t *)malloc(size);
    CHECK(buf != NULL);
    OK(vq_opq_save_buffer(opq, buf, size, &written));
    uint8_t *file = read_file(path, &file_len);
    CHECK(written == size && file_len == size && memcmp(buf, file, size) == 0);
    vq_opq *loaded = NULL, *from_buf = NULL;
    OK(vq_opq_load(path, &loaded));
    OK(vq_opq_load_buffer(buf, size, &from_buf));
    vq_opq *both[2] = {loaded, from_buf};
    for (int i = 0; i < 2; i++) {
        CHECK(vq_opq_metric(both[i]) == metric && vq_opq_d_out(both[i]) == d_out);
        uint8_t *codes2 = (uint8_t *)malloc(N * cs);
        CHECK(codes2 != NULL);
        OK(vq_opq_encode(both[i], x, N * D, codes2, N * cs));
        CHECK(memcmp(codes, codes2, N * cs) == 0);
        search(both[i], q, codes, cs, dist2, lab2);
        CHECK(memcmp(dist, dist2, sizeof dist) == 0 && memcmp(lab, lab2, sizeof lab) == 0);
        free(codes2);
    }

    /* Composed from its own parts (the view's PQ copied): the same quantizer. */
    vq_opq *parts = NULL;
    OK(vq_opq_from_parts(D, r, r_len, pq, &parts));
    CHECK(vq_opq_metric(parts) == metric);
    search(parts, q, codes, cs, dist2, lab2);
    CHECK(memcmp(dist, dist2, sizeof dist) == 0 && memcmp(lab, lab2, sizeof lab) == 0);
    vq_opq_free(parts);

    vq_opq_free(from_buf);
    vq_opq_free(loaded);
    vq_opq_free(opq);
    free(rq);
    free(file);
    free(buf);
    free(path);
    free(table);
    free(scan);
    free(all);
    free(ydec);
    free(dec);
    free(codes);
}

/* An L2 OPQ's rotation with an inner-product PQ of its centroids: an inner-product OPQ that
 * ranks largest first. */
static void check_composed_metric(const float *x, const float *q) {
    vq_opq_params p = vq_opq_params_default();
    p.niter = 4;
    p.kmeans.iterations = 5;
    p.kmeans.threads = 1;
    vq_opq *l2 = NULL;
    OK(vq_opq_train(VQ_METRIC_L2, D, M, KSUB, x, N * D, &p, &l2));
    const float *r = NULL, *cent = NULL;
    size_t r_len = 0, cent_len = 0;
    OK(vq_opq_rotation(l2, &r, &r_len));
    OK(vq_opq_centroids(l2, &cent, &cent_len));
    vq_pq *ip_pq = NULL;
    OK(vq_pq_from_centroids_metric(VQ_METRIC_INNER_PRODUCT, D, M, KSUB, cent, cent_len, &ip_pq));
    vq_opq *ip = NULL;
    OK(vq_opq_from_parts(D, r, r_len, ip_pq, &ip));
    vq_pq_free(ip_pq); /* copied */
    CHECK(vq_opq_metric(ip) == VQ_METRIC_INNER_PRODUCT && vq_opq_metric(l2) == VQ_METRIC_L2);
    size_t cs = vq_opq_code_size(ip);
    uint8_t *codes = (uint8_t *)malloc(N * cs);
    float *dec = (float *)malloc(N * D * sizeof(float));
    CHECK(codes != NULL && dec != NULL);
    OK(vq_opq_encode(ip, x, N * D, codes, N * cs));
    OK(vq_opq_decode(ip, codes, N * cs, dec, N * D));
    float dist[NQ * K];
    int64_t lab[NQ * K];
    search(ip, q, codes, cs, dist, lab);
    for (size_t i = 0; i < NQ; i++) check_top_k(VQ_METRIC_INNER_PRODUCT, q + i * D, dec, N, D, dist + i * K, lab + i * K);
    /* Past the codes: (-INFINITY, -1). */
    float d5[5];
    int64_t l5[5];
    OK(vq_opq_search(ip, q, D, codes, 3 * cs, 5, d5, 5, l5, 5));
    CHECK(l5[2] >= 0 && l5[3] == -1 && l5[4] == -1 && d5[3] == -INFINITY && d5[4] == -INFINITY);
    vq_opq_free(ip);
    vq_opq_free(l2);
    free(codes);
    free(dec);
}

static void check_errors(const float *x, const char *tmp) {
    vq_opq *const sentinel = (vq_opq *)(uintptr_t)0x1;
    vq_opq *out = sentinel;
    vq_opq_params p = vq_opq_params_default();
    p.niter = 2;
    p.kmeans.iterations = 3;
    p.kmeans.threads = 1;

    EXPECT_STATUS(vq_opq_train(VQ_METRIC_L2, D, M, KSUB, x, N * D, &p, NULL), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("out is NULL");
    EXPECT_STATUS(vq_opq_train(VQ_METRIC_L2, D, M, KSUB, NULL, N * D, &p, &out), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("data is NULL");
    EXPECT_STATUS(vq_opq_train(3, D, M, KSUB, x, N * D, &p, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("metric = 3 is out of range");
    p.d_out = D - 2;
    EXPECT_STATUS(vq_opq_train(VQ_METRIC_L2, D, M, KSUB, x, N * D, &p, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("d_out = 18 for dimension 20");
    p.d_out = 0;
    EXPECT_STATUS(vq_opq_train(VQ_METRIC_L2, D, M, KSUB, x, 40 * D, &p, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("40 rows for ksub = 64");
    EXPECT_STATUS(vq_opq_train(VQ_METRIC_L2, D, M, KSUB, x, N * D - 3, &p, &out), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("11997 elements");
    p.inner_points_per_centroid = 0;
    EXPECT_STATUS(vq_opq_train(VQ_METRIC_L2, D, M, KSUB, x, N * D, &p, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("inner_points_per_centroid = 0");
    p.inner_points_per_centroid = 1000;
    CHECK(out == sentinel);

    /* Getters and free accept NULL. */
    CHECK(vq_opq_dim(NULL) == 0 && vq_opq_d_out(NULL) == 0 && vq_opq_m(NULL) == 0 && vq_opq_ksub(NULL) == 0);
    CHECK(vq_opq_code_size(NULL) == 0 && vq_opq_search_table_len(NULL) == 0 && vq_opq_metric(NULL) == UINT32_MAX);
    CHECK(vq_opq_pq(NULL) == NULL);
    vq_opq_free(NULL);

    vq_opq *opq = NULL;
    OK(vq_opq_train(VQ_METRIC_L2, D, M, KSUB, x, N * D, &p, &opq));
    const float *r = NULL;
    size_t r_len = 0;
    OK(vq_opq_rotation(opq, &r, &r_len));
    const vq_pq *pq = vq_opq_pq(opq);

    /* Parts that do not make an OPQ. */
    float *skew = (float *)malloc(r_len * sizeof(float));
    CHECK(skew != NULL);
    memcpy(skew, r, r_len * sizeof(float));
    skew[3] *= 1.5f;
    skew[3] += 0.2f;
    EXPECT_STATUS(vq_opq_from_parts(D, skew, r_len, pq, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("orthonormal columns");
    skew[3] = NAN;
    EXPECT_STATUS(vq_opq_from_parts(D, skew, r_len, pq, &out), VQ_STATUS_NON_FINITE);
    EXPECT_MESSAGE("element 3");
    EXPECT_STATUS(vq_opq_from_parts(D, r, r_len - 1, pq, &out), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("rotation has 399 elements");
    EXPECT_STATUS(vq_opq_from_parts(D, r, (D - 1) * D, pq, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("rotation rows (d_out) = 19 for dimension 20");
    EXPECT_STATUS(vq_opq_from_parts(D, r, r_len, NULL, &out), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("pq is NULL");
    /* A PQ of the input dimension does not fit a rotation to d_out = 22 dimensions. */
    float *wide = (float *)calloc((D + 2) * D, sizeof(float));
    CHECK(wide != NULL);
    for (size_t j = 0; j < D; j++) wide[j * D + j] = 1.0f;
    EXPECT_STATUS(vq_opq_from_parts(D, wide, (D + 2) * D, pq, &out), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("product quantizer has dimension 20, expected 22");
    CHECK(out == sentinel);

    /* Bad lengths: nothing written. */
    size_t cs = vq_opq_code_size(opq);
    uint8_t codes[8 * M];
    memset(codes, 0xEE, sizeof codes);
    EXPECT_STATUS(vq_opq_encode(opq, x, 8 * D, codes, 8 * cs - 1), VQ_STATUS_BAD_LENGTH);
    for (size_t i = 0; i < sizeof codes; i++) CHECK(codes[i] == 0xEE);
    OK(vq_opq_encode(opq, x, 8 * D, codes, 8 * cs));
    float table[M * KSUB];
    EXPECT_STATUS(vq_opq_distance_table(opq, x, D - 1, table, M * KSUB), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("query has length 19, expected exactly 20");
    float dist[4] = {7, 7, 7, 7};
    int64_t lab[4] = {7, 7, 7, 7};
    float scratch[64];
    EXPECT_STATUS(vq_opq_search_with_table(opq, x, D, codes, 8 * cs, 2, scratch, 64, dist, 2, lab, 2),
                  VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("table_len = 64");
    EXPECT_STATUS(vq_opq_search(opq, x, D, codes, 8 * cs, 2, dist, 2, lab, 1), VQ_STATUS_BAD_LENGTH);
    EXPECT_STATUS(vq_opq_search(opq, x, D, codes, 8 * cs, 0, dist, 0, lab, 0), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("k = 0");
    float q[D];
    memcpy(q, x, sizeof q);
    q[4] = INFINITY;
    EXPECT_STATUS(vq_opq_search(opq, q, D, codes, 8 * cs, 2, dist, 2, lab, 2), VQ_STATUS_NON_FINITE);
    CHECK(dist[0] == 7 && lab[0] == 7);

    /* Model files of the other kinds name the call that loads them. */
    char *opq_path = join(tmp, "opq_errors.vqm"), *pq_path = join(tmp, "opq_errors_pq.vqm");
    OK(vq_opq_save(opq, opq_path));
    OK(vq_pq_save(pq, pq_path)); /* the view saves as the PQ it is */
    EXPECT_STATUS(vq_opq_load(pq_path, &out), VQ_STATUS_WRONG_KIND);
    EXPECT_MESSAGE("holds a product quantizer (kind 1), expected an OPQ quantizer (use vq_pq_load)");
    vq_pq *pq_out = NULL;
    EXPECT_STATUS(vq_pq_load(opq_path, &pq_out), VQ_STATUS_WRONG_KIND);
    EXPECT_MESSAGE("holds an OPQ quantizer (kind 3), expected a product quantizer (use vq_opq_load)");
    vq_sq *sq_out = NULL;
    EXPECT_STATUS(vq_sq_load(opq_path, &sq_out), VQ_STATUS_WRONG_KIND);
    EXPECT_MESSAGE("(use vq_opq_load)");
    CHECK(pq_out == NULL && sq_out == NULL);
    /* Truncated or corrupt: VQ_STATUS_FORMAT; too small a buffer: nothing written. */
    size_t size = 0, written = 77;
    OK(vq_opq_serialized_size(opq, &size));
    uint8_t *buf = (uint8_t *)malloc(size);
    CHECK(buf != NULL);
    memset(buf, 0xAB, size);
    EXPECT_STATUS(vq_opq_save_buffer(opq, buf, size - 1, &written), VQ_STATUS_BUFFER_TOO_SMALL);
    CHECK(written == 77 && buf[0] == 0xAB);
    OK(vq_opq_save_buffer(opq, buf, size, &written));
    for (size_t len = 0; len < size; len += 61) EXPECT_STATUS(vq_opq_load_buffer(buf, len, &out), VQ_STATUS_FORMAT);
    buf[size - 5] ^= 0x40; /* inside the rotation */
    EXPECT_STATUS(vq_opq_load_buffer(buf, size, &out), VQ_STATUS_FORMAT);
    CHECK(out == sentinel);

    free(buf);
    free(opq_path);
    free(pq_path);
    free(wide);
    free(skew);
    vq_opq_free(opq);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s TMP_DIR\n", argv[0]);
        return 2;
    }
    CHECK(VQ_VERSION_MINOR >= 3); /* the release that added OPQ */
    float *x = rows(N);
    float *q = rows(NQ);
    check_metric(VQ_METRIC_L2, 0, x, q, argv[1]);
    check_metric(VQ_METRIC_L2, D + 4, x, q, argv[1]);
    check_metric(VQ_METRIC_INNER_PRODUCT, D + 4, x, q, argv[1]);
    check_metric(VQ_METRIC_COSINE, 0, x, q, argv[1]);
    check_composed_metric(x, q);
    check_errors(x, argv[1]);
    free(x);
    free(q);
    printf("opq: ok\n");
    return 0;
}
