/* Train -> save -> load -> encode -> search on the real MiniLM fixture, through the C ABI
 * only: product and scalar quantizers, file and memory round trips, the distance table and
 * ADC scan against search, and the kernels.
 *
 * usage: lifecycle FIXTURE_DIR TMP_DIR
 * Prints "pq_recall10=..." and "sq8_recall10=..." for the Rust runner, which checks them
 * against the Rust library's own results on the same data. */
#include <math.h>

#include "testutil.h"

enum { K = 10 };

static int close_enough(float a, float b) {
    return fabsf(a - b) <= 1e-4f * (1.0f + fabsf(b));
}

static void check_pq(const float *base, size_t nb, const float *queries, size_t nq, size_t d,
                     const int32_t *gt, size_t gt_k, const char *tmp) {
    vq_train_params params = vq_train_params_default();
    CHECK(params.seed == 1234 && params.iterations == 25 && params.init == VQ_INIT_RANDOM);
    params.seed = 42;
    params.iterations = 20;
    params.threads = 2;
    const size_t m = 48, ksub = 256;
    vq_pq *pq = NULL;
    OK(vq_pq_train(d, m, ksub, base, nb * d, &params, &pq));
    CHECK(pq != NULL);
    CHECK(vq_pq_dim(pq) == d && vq_pq_m(pq) == m && vq_pq_ksub(pq) == ksub);
    size_t cs = vq_pq_code_size(pq);
    CHECK(cs == m);
    const float *cent = NULL;
    size_t cent_len = 0;
    OK(vq_pq_centroids(pq, &cent, &cent_len));
    CHECK(cent != NULL && cent_len == ksub * d);

    uint8_t *codes = (uint8_t *)malloc(nb * cs);
    CHECK(codes != NULL);
    OK(vq_pq_encode(pq, base, nb * d, codes, nb * cs));

    float *dist = (float *)malloc(nq * K * sizeof(float));
    int64_t *lab = (int64_t *)malloc(nq * K * sizeof(int64_t));
    CHECK(dist != NULL && lab != NULL);
    OK(vq_pq_search(pq, queries, nq * d, codes, nb * cs, K, dist, nq * K, lab, nq * K));
    double r10 = recall_at(gt, gt_k, lab, K, nq);
    printf("pq_recall10=%.6f\n", r10);
    CHECK(r10 >= 0.5);
    for (size_t q = 0; q < nq; q++) {
        for (size_t i = 1; i < K; i++) CHECK(dist[q * K + i - 1] <= dist[q * K + i]);
    }

    /* Distance table + ADC scan of query 0 give the search's distances for its labels, and
     * vq_pq_distances gives the same scan. */
    float *table = (float *)malloc(m * ksub * sizeof(float));
    float *scan = (float *)malloc(nb * sizeof(float));
    float *scan2 = (float *)malloc(nb * sizeof(float));
    CHECK(table != NULL && scan != NULL && scan2 != NULL);
    OK(vq_pq_distance_table(pq, queries, d, table, m * ksub));
    OK(vq_pq_adc_scan(pq, table, m * ksub, codes, nb * cs, scan, nb));
    OK(vq_pq_distances(pq, queries, d, codes, nb * cs, scan2, nb));
    for (size_t i = 0; i < nb; i++) CHECK(scan[i] == scan2[i]);
    for (size_t i = 0; i < K; i++) CHECK(scan[lab[i]] == dist[i]);

    /* The ADC distance is the distance to the decoded vector, up to float rounding. */
    float *decoded = (float *)malloc(4 * d * sizeof(float));
    CHECK(decoded != NULL);
    OK(vq_pq_decode(pq, codes, 4 * cs, decoded, 4 * d));
    for (size_t i = 0; i < 4; i++) {
        float exact = 0;
        OK(vq_l2sq(queries, d, decoded + i * d, d, &exact));
        CHECK(close_enough(scan[i], exact));
    }

    /* search_with_table: same results, caller's scratch table. */
    float *dist2 = (float *)malloc(nq * K * sizeof(float));
    int64_t *lab2 = (int64_t *)malloc(nq * K * sizeof(int64_t));
    CHECK(dist2 != NULL && lab2 != NULL);
    OK(vq_pq_search_with_table(pq, queries, nq * d, codes, nb * cs, K, table, m * ksub, dist2, nq * K,
                               lab2, nq * K));
    CHECK(memcmp(dist, dist2, nq * K * sizeof(float)) == 0);
    CHECK(memcmp(lab, lab2, nq * K * sizeof(int64_t)) == 0);
    /* The batch-sized table: the same results again. */
    size_t btl = vq_pq_search_table_len(pq);
    CHECK(btl > m * ksub);
    float *btable = (float *)malloc(btl * sizeof(float));
    CHECK(btable != NULL);
    OK(vq_pq_search_with_table(pq, queries, nq * d, codes, nb * cs, K, btable, btl, dist2, nq * K, lab2, nq * K));
    CHECK(memcmp(dist, dist2, nq * K * sizeof(float)) == 0);
    CHECK(memcmp(lab, lab2, nq * K * sizeof(int64_t)) == 0);
    free(btable);
    CHECK(vq_pq_search_table_len(NULL) == 0);

    /* File round trip: same centroids, same training record, same codes, same results. */
    char *path = join(tmp, "minilm_pq.vqm");
    OK(vq_pq_save(pq, path));
    vq_pq *loaded = NULL;
    OK(vq_pq_load(path, &loaded));
    const float *cent2 = NULL;
    size_t cent2_len = 0;
    OK(vq_pq_centroids(loaded, &cent2, &cent2_len));
    CHECK(cent2_len == cent_len && memcmp(cent, cent2, cent_len * sizeof(float)) == 0);
    vq_train_params rec;
    OK(vq_pq_train_params(loaded, &rec));
    CHECK(rec.seed == 42 && rec.iterations == 20 && rec.init == VQ_INIT_RANDOM &&
          rec.max_points_per_centroid == params.max_points_per_centroid && rec.threads == 0);
    uint8_t *codes2 = (uint8_t *)malloc(nb * cs);
    CHECK(codes2 != NULL);
    OK(vq_pq_encode(loaded, base, nb * d, codes2, nb * cs));
    CHECK(memcmp(codes, codes2, nb * cs) == 0);
    OK(vq_pq_search(loaded, queries, nq * d, codes2, nb * cs, K, dist2, nq * K, lab2, nq * K));
    CHECK(memcmp(lab, lab2, nq * K * sizeof(int64_t)) == 0);
    CHECK(memcmp(dist, dist2, nq * K * sizeof(float)) == 0);

    /* Memory round trip, and the file's bytes are the buffer's. */
    size_t size = 0, written = 0;
    OK(vq_pq_serialized_size(pq, &size));
    uint8_t *buf = (uint8_t *)malloc(size);
    CHECK(buf != NULL);
    OK(vq_pq_save_buffer(pq, buf, size, &written));
    CHECK(written == size);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    uint8_t *file_bytes = (uint8_t *)malloc(size + 1);
    CHECK(file_bytes != NULL);
    CHECK(fread(file_bytes, 1, size + 1, f) == size);
    fclose(f);
    CHECK(memcmp(buf, file_bytes, size) == 0);
    vq_pq *from_buf = NULL;
    OK(vq_pq_load_buffer(buf, size, &from_buf));
    CHECK(vq_pq_code_size(from_buf) == cs);
    OK(vq_pq_search(from_buf, queries, nq * d, codes, nb * cs, K, dist2, nq * K, lab2, nq * K));
    CHECK(memcmp(lab, lab2, nq * K * sizeof(int64_t)) == 0);

    free(file_bytes);
    free(buf);
    free(codes2);
    free(path);
    free(dist2);
    free(lab2);
    free(decoded);
    free(table);
    free(scan);
    free(scan2);
    free(dist);
    free(lab);
    free(codes);
    vq_pq_free(from_buf);
    vq_pq_free(loaded);
    vq_pq_free(pq);
}

static void check_sq(const float *base, size_t nb, const float *queries, size_t nq, size_t d,
                     const int32_t *gt, size_t gt_k, const char *tmp) {
    vq_sq *sq = NULL;
    OK(vq_sq_train(8, d, base, nb * d, &sq));
    CHECK(vq_sq_dim(sq) == d && vq_sq_bits(sq) == 8 && vq_sq_code_size(sq) == d);
    const float *vmin = NULL, *vmax = NULL;
    size_t rd = 0;
    OK(vq_sq_ranges(sq, &vmin, &vmax, &rd));
    CHECK(rd == d);
    for (size_t j = 0; j < d; j++) {
        CHECK(vmin[j] <= vmax[j]);
        for (size_t i = 0; i < nb; i++) CHECK(base[i * d + j] >= vmin[j] && base[i * d + j] <= vmax[j]);
    }
    size_t cs = d;
    uint8_t *codes = (uint8_t *)malloc(nb * cs);
    float *dist = (float *)malloc(nq * K * sizeof(float));
    int64_t *lab = (int64_t *)malloc(nq * K * sizeof(int64_t));
    float *scan = (float *)malloc(nb * sizeof(float));
    float *decoded = (float *)malloc(d * sizeof(float));
    CHECK(codes != NULL && dist != NULL && lab != NULL && scan != NULL && decoded != NULL);
    OK(vq_sq_encode(sq, base, nb * d, codes, nb * cs));
    OK(vq_sq_search(sq, queries, nq * d, codes, nb * cs, K, dist, nq * K, lab, nq * K));
    double r10 = recall_at(gt, gt_k, lab, K, nq);
    printf("sq8_recall10=%.6f\n", r10);
    CHECK(r10 >= 0.95);
    OK(vq_sq_distances(sq, queries, d, codes, nb * cs, scan, nb));
    for (size_t i = 0; i < K; i++) CHECK(close_enough(scan[lab[i]], dist[i]));
    /* Decoding is within half a cell of the original in every dimension. */
    OK(vq_sq_decode(sq, codes, cs, decoded, d));
    for (size_t j = 0; j < d; j++) {
        float half = (vmax[j] - vmin[j]) / 512.0f;
        CHECK(fabsf(decoded[j] - base[j]) <= half * 1.001f + 1e-7f);
    }

    char *path = join(tmp, "minilm_sq8.vqm");
    OK(vq_sq_save(sq, path));
    vq_sq *loaded = NULL;
    OK(vq_sq_load(path, &loaded));
    const float *vmin2 = NULL, *vmax2 = NULL;
    OK(vq_sq_ranges(loaded, &vmin2, &vmax2, &rd));
    CHECK(memcmp(vmin, vmin2, d * sizeof(float)) == 0 && memcmp(vmax, vmax2, d * sizeof(float)) == 0);
    int64_t *lab2 = (int64_t *)malloc(nq * K * sizeof(int64_t));
    CHECK(lab2 != NULL);
    OK(vq_sq_search(loaded, queries, nq * d, codes, nb * cs, K, dist, nq * K, lab2, nq * K));
    CHECK(memcmp(lab, lab2, nq * K * sizeof(int64_t)) == 0);

    size_t size = 0, written = 0;
    OK(vq_sq_serialized_size(sq, &size));
    uint8_t *buf = (uint8_t *)malloc(size);
    CHECK(buf != NULL);
    OK(vq_sq_save_buffer(sq, buf, size, &written));
    CHECK(written == size);
    vq_sq *from_buf = NULL;
    OK(vq_sq_load_buffer(buf, size, &from_buf));
    CHECK(vq_sq_dim(from_buf) == d && vq_sq_bits(from_buf) == 8);

    /* Four-bit and 16-bit variants train, encode and search too. */
    unsigned bits[2] = {4, 16};
    for (int b = 0; b < 2; b++) {
        vq_sq *s = NULL;
        OK(vq_sq_train(bits[b], d, base, nb * d, &s));
        size_t c = vq_sq_code_size(s);
        CHECK(c == (bits[b] == 4 ? (d + 1) / 2 : 2 * d));
        uint8_t *cc = (uint8_t *)malloc(nb * c);
        CHECK(cc != NULL);
        OK(vq_sq_encode(s, base, nb * d, cc, nb * c));
        OK(vq_sq_search(s, queries, nq * d, cc, nb * c, K, dist, nq * K, lab2, nq * K));
        CHECK(recall_at(gt, gt_k, lab2, K, nq) >= 0.9);
        free(cc);
        vq_sq_free(s);
    }

    free(buf);
    free(lab2);
    free(path);
    free(codes);
    free(dist);
    free(lab);
    free(scan);
    free(decoded);
    vq_sq_free(from_buf);
    vq_sq_free(loaded);
    vq_sq_free(sq);
}

static void check_kernels(const float *base, size_t nb, size_t d) {
    float *l2 = (float *)malloc(nb * sizeof(float));
    float *ip = (float *)malloc(nb * sizeof(float));
    CHECK(l2 != NULL && ip != NULL);
    OK(vq_l2sq_batch(base, d, base, nb * d, l2, nb));
    OK(vq_dot_batch(base, d, base, nb * d, ip, nb));
    CHECK(l2[0] == 0.0f);
    CHECK(fabsf(ip[0] - 1.0f) < 1e-5f); /* unit vectors */
    for (size_t i = 0; i < nb; i += 97) {
        float a = 0, b = 0;
        OK(vq_l2sq(base, d, base + i * d, d, &a));
        OK(vq_dot(base, d, base + i * d, d, &b));
        CHECK(a == l2[i] || close_enough(a, l2[i]));
        CHECK(close_enough(b, ip[i]));
        /* Unit vectors: |a - b|^2 = 2 - 2 a.b */
        CHECK(fabsf(a - (2.0f - 2.0f * b)) < 1e-4f);
    }
    free(l2);
    free(ip);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURE_DIR TMP_DIR\n", argv[0]);
        return 2;
    }
    printf("vq %s, SIMD level %s\n", vq_version(), vq_simd_level());
    CHECK(strlen(vq_version()) > 0);
    size_t nb, d, nq, dq, ng, gt_k;
    char *p = join(argv[1], "minilm_base_2k.fvecs");
    float *base = (float *)read_vecs4(p, &nb, &d);
    free(p);
    p = join(argv[1], "minilm_query_100.fvecs");
    float *queries = (float *)read_vecs4(p, &nq, &dq);
    free(p);
    p = join(argv[1], "minilm_gt_100.ivecs");
    int32_t *gt = (int32_t *)read_vecs4(p, &ng, &gt_k);
    free(p);
    CHECK(nb == 2000 && d == 384 && dq == d && nq == 100 && ng == nq && gt_k == 100);

    check_pq(base, nb, queries, nq, d, gt, gt_k, argv[2]);
    check_sq(base, nb, queries, nq, d, gt, gt_k, argv[2]);
    check_kernels(base, nb, d);

    free(base);
    free(queries);
    free(gt);
    printf("lifecycle: ok\n");
    return 0;
}
