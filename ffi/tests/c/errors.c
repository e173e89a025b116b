/* Every status a C caller can cause, with the message naming the bad value; NULL and
 * bad-length paths; out-parameters and output buffers untouched on failure.
 *
 * VQ_STATUS_PANIC cannot be caused through the API (that would be a bug); the Rust test
 * `status::tests::a_panic_becomes_a_status_and_a_message` drives the same guard.
 *
 * usage: errors TMP_DIR */
#include <math.h>

#include "testutil.h"

static vq_pq *const SENTINEL_PQ = (vq_pq *)(uintptr_t)0x1;
static vq_sq *const SENTINEL_SQ = (vq_sq *)(uintptr_t)0x1;

/* Deterministic training data: n rows of d floats. */
static float *data(size_t n, size_t d) {
    float *x = (float *)malloc(n * d * sizeof(float));
    CHECK(x != NULL);
    uint32_t s = 12345;
    for (size_t i = 0; i < n * d; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    return x;
}

static int all_equal(const float *x, size_t n, float v) {
    for (size_t i = 0; i < n; i++)
        if (x[i] != v) return 0;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s TMP_DIR\n", argv[0]);
        return 2;
    }
    const size_t d = 16, n = 300;
    float *x = data(n, d);
    vq_pq *out = SENTINEL_PQ;

    /* ---- VQ_STATUS_NULL_POINTER ---- */
    EXPECT_STATUS(vq_pq_train(d, 4, 16, NULL, n * d, NULL, &out), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("data is NULL");
    CHECK(out == SENTINEL_PQ);
    EXPECT_STATUS(vq_pq_train(d, 4, 16, x, n * d, NULL, NULL), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("out is NULL");
    EXPECT_STATUS(vq_pq_encode(NULL, x, d, NULL, 0), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("pq is NULL");
    EXPECT_STATUS(vq_sq_encode(NULL, x, d, NULL, 0), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("sq is NULL");
    EXPECT_STATUS(vq_pq_load(NULL, &out), VQ_STATUS_NULL_POINTER);
    EXPECT_MESSAGE("path is NULL");
    EXPECT_STATUS(vq_l2sq(x, d, x, d, NULL), VQ_STATUS_NULL_POINTER);
    /* Getters and free accept NULL. */
    CHECK(vq_pq_dim(NULL) == 0 && vq_pq_m(NULL) == 0 && vq_pq_ksub(NULL) == 0 && vq_pq_code_size(NULL) == 0);
    CHECK(vq_sq_dim(NULL) == 0 && vq_sq_bits(NULL) == 0 && vq_sq_code_size(NULL) == 0);
    vq_pq_free(NULL);
    vq_sq_free(NULL);

    /* ---- VQ_STATUS_INVALID_ARGUMENT: parameters out of range ---- */
    EXPECT_STATUS(vq_pq_train(d, 0, 16, x, n * d, NULL, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("m (sub-quantizers) = 0");
    EXPECT_STATUS(vq_pq_train(d, 17, 16, x, n * d, NULL, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("17 for dimension 16");
    EXPECT_STATUS(vq_pq_train(d, 4, 70000, x, n * d, NULL, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("70000");
    EXPECT_MESSAGE("2..=65536");
    EXPECT_STATUS(vq_pq_train(d, 4, 512, x, n * d, NULL, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("300 rows for ksub = 512");
    vq_train_params bad = vq_train_params_default();
    bad.init = 7;
    EXPECT_STATUS(vq_pq_train(d, 4, 16, x, n * d, &bad, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("init = 7");
    bad = vq_train_params_default();
    bad.max_points_per_centroid = 0;
    EXPECT_STATUS(vq_pq_train(d, 4, 16, x, n * d, &bad, &out), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("max_points_per_centroid");
    vq_sq *sout = SENTINEL_SQ;
    EXPECT_STATUS(vq_sq_train(5, d, x, n * d, &sout), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("SQ bits = 5");
    EXPECT_STATUS(vq_sq_train(8, 0, x, n * d, &sout), VQ_STATUS_INVALID_ARGUMENT);
    CHECK(sout == SENTINEL_SQ);
    CHECK(out == SENTINEL_PQ);

    /* A working pair of quantizers for the calls below. ksub = 10 leaves nibble codes 10..15
     * invalid, which the ABI must reject rather than read past the table. */
    vq_train_params p = vq_train_params_default();
    p.iterations = 5;
    vq_pq *pq = NULL;
    OK(vq_pq_train(d, 4, 10, x, n * d, &p, &pq));
    const size_t cs = vq_pq_code_size(pq);
    CHECK(cs == 2);
    vq_sq *sq = NULL;
    OK(vq_sq_train(8, d, x, n * d, &sq));

    uint8_t codes[8 * 2];
    OK(vq_pq_encode(pq, x, 8 * d, codes, sizeof codes));
    uint8_t bad_codes[2] = {0xF0, 0x00};
    float vec[16];
    for (size_t i = 0; i < d; i++) vec[i] = 7.0f;
    EXPECT_STATUS(vq_pq_decode(pq, bad_codes, 2, vec, d), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("sub-code = 15");
    CHECK(all_equal(vec, d, 7.0f)); /* output untouched */
    float table[4 * 10];
    OK(vq_pq_distance_table(pq, x, d, table, 40));
    float scan[8];
    for (int i = 0; i < 8; i++) scan[i] = 7.0f;
    EXPECT_STATUS(vq_pq_adc_scan(pq, table, 40, bad_codes, 2, scan, 1), VQ_STATUS_INVALID_ARGUMENT);
    CHECK(scan[0] == 7.0f);
    float dist[8];
    int64_t lab[8];
    EXPECT_STATUS(vq_pq_search(pq, x, d, bad_codes, 2, 1, dist, 1, lab, 1), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(vq_pq_search(pq, x, d, codes, sizeof codes, 0, dist, 0, lab, 0), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("k = 0");
    /* nq * k overflows size_t: rejected, not wrapped. */
    EXPECT_STATUS(vq_pq_search(pq, x, 2 * d, codes, sizeof codes, SIZE_MAX / 2 + 1, dist, 0, lab, 0),
                  VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("overflows");
    /* Misaligned float pointer. */
    unsigned char raw[sizeof(float) * 17];
    memset(raw, 0, sizeof raw);
    EXPECT_STATUS(vq_l2sq((const float *)(const void *)(raw + 1), d, x, d, &dist[0]), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("not aligned");
    /* An output overlapping an input. */
    float *overlap = data(4, d);
    EXPECT_STATUS(vq_l2sq_batch(overlap, d, overlap, 4 * d, overlap + d, 4), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("out overlaps");
    free(overlap);
    vq_pq *from_c = NULL;
    float cent[10 * 16];
    memset(cent, 0, sizeof cent);
    OK(vq_pq_from_centroids(d, 4, 10, cent, 10 * 16, &from_c));
    vq_train_params rec = vq_train_params_default();
    rec.seed = 99;
    EXPECT_STATUS(vq_pq_train_params(from_c, &rec), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("no training record");
    CHECK(rec.seed == 99);
    vq_pq_free(from_c);
    float lo[2] = {1.0f, 0.0f}, hi[2] = {0.0f, 1.0f};
    EXPECT_STATUS(vq_sq_from_ranges(8, lo, 2, hi, 2, &sout), VQ_STATUS_INVALID_ARGUMENT);
    EXPECT_MESSAGE("vmin 1 > vmax 0");

    /* ---- VQ_STATUS_BAD_LENGTH ---- */
    EXPECT_STATUS(vq_pq_train(d, 4, 16, x, n * d - 1, NULL, &out), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("4799 elements");
    EXPECT_STATUS(vq_pq_encode(pq, x, 8 * d, codes, sizeof codes - 1), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("codes has length 15, expected exactly 16");
    EXPECT_STATUS(vq_pq_distance_table(pq, x, d, table, 39), VQ_STATUS_BAD_LENGTH);
    EXPECT_STATUS(vq_pq_distance_table(pq, x, d - 1, table, 40), VQ_STATUS_BAD_LENGTH);
    EXPECT_STATUS(vq_pq_adc_scan(pq, table, 40, codes, sizeof codes, scan, 7), VQ_STATUS_BAD_LENGTH);
    EXPECT_STATUS(vq_pq_search(pq, x, d, codes, sizeof codes, 2, dist, 2, lab, 1), VQ_STATUS_BAD_LENGTH);
    EXPECT_STATUS(vq_sq_search(sq, x, d + 1, codes, 16, 1, dist, 1, lab, 1), VQ_STATUS_BAD_LENGTH);
    EXPECT_STATUS(vq_sq_decode(sq, codes, 15, vec, d), VQ_STATUS_BAD_LENGTH);
    EXPECT_STATUS(vq_l2sq(x, d, x, d - 1, &dist[0]), VQ_STATUS_BAD_LENGTH);
    /* n * dim overflowing the address space is caught before any slice is formed. */
    EXPECT_STATUS(vq_pq_encode(pq, x, SIZE_MAX / 2, codes, sizeof codes), VQ_STATUS_BAD_LENGTH);
    EXPECT_MESSAGE("overflows the address space");
    EXPECT_STATUS(vq_sq_distances(sq, x, d, codes, 16, dist, SIZE_MAX / 2), VQ_STATUS_BAD_LENGTH);
    CHECK(out == SENTINEL_PQ);

    /* ---- VQ_STATUS_NON_FINITE ---- */
    float *nan_data = data(n, d);
    nan_data[37] = NAN;
    EXPECT_STATUS(vq_pq_train(d, 4, 16, nan_data, n * d, NULL, &out), VQ_STATUS_NON_FINITE);
    EXPECT_MESSAGE("element 37");
    EXPECT_STATUS(vq_sq_train(8, d, nan_data, n * d, &sout), VQ_STATUS_NON_FINITE);
    float q[16];
    memcpy(q, x, sizeof q);
    q[3] = INFINITY;
    EXPECT_STATUS(vq_sq_search(sq, q, d, codes, 16, 1, dist, 1, lab, 1), VQ_STATUS_NON_FINITE);
    free(nan_data);

    /* ---- VQ_STATUS_BUFFER_TOO_SMALL ---- */
    size_t size = 0, written = 77;
    OK(vq_pq_serialized_size(pq, &size));
    uint8_t *buf = (uint8_t *)malloc(size);
    CHECK(buf != NULL);
    memset(buf, 0xAB, size);
    EXPECT_STATUS(vq_pq_save_buffer(pq, buf, size - 1, &written), VQ_STATUS_BUFFER_TOO_SMALL);
    EXPECT_MESSAGE("needs");
    CHECK(written == 77 && buf[0] == 0xAB);
    OK(vq_pq_save_buffer(pq, buf, size, &written));
    CHECK(written == size);

    /* ---- VQ_STATUS_IO ---- */
    char *missing = join(argv[1], "no-such-dir/none.vqm");
    EXPECT_STATUS(vq_pq_load(missing, &out), VQ_STATUS_IO);
    EXPECT_MESSAGE("none.vqm");
    EXPECT_STATUS(vq_pq_save(pq, missing), VQ_STATUS_IO);
    EXPECT_STATUS(vq_sq_load(missing, &sout), VQ_STATUS_IO);
    free(missing);

    /* ---- VQ_STATUS_FORMAT: garbage, truncation at every length, any flipped byte ---- */
    const uint8_t garbage[100] = {1, 2, 3};
    EXPECT_STATUS(vq_pq_load_buffer(garbage, sizeof garbage, &out), VQ_STATUS_FORMAT);
    EXPECT_MESSAGE("not a vq model file");
    EXPECT_STATUS(vq_pq_load_buffer(NULL, 0, &out), VQ_STATUS_FORMAT);
    for (size_t len = 0; len < size; len += 7) {
        EXPECT_STATUS(vq_pq_load_buffer(buf, len, &out), VQ_STATUS_FORMAT);
    }
    for (size_t i = 0; i < size; i += 5) {
        if (i >= 8 && i < 12) continue; /* the version field has its own status */
        buf[i] ^= 0x10;
        EXPECT_STATUS(vq_pq_load_buffer(buf, size, &out), VQ_STATUS_FORMAT);
        buf[i] ^= 0x10;
    }
    CHECK(out == SENTINEL_PQ);

    /* ---- VQ_STATUS_UNSUPPORTED_VERSION ---- */
    buf[8] = 2;
    EXPECT_STATUS(vq_pq_load_buffer(buf, size, &out), VQ_STATUS_UNSUPPORTED_VERSION);
    EXPECT_MESSAGE("version 2 is not supported");
    buf[8] = VQ_FORMAT_VERSION;
    vq_pq *back = NULL;
    OK(vq_pq_load_buffer(buf, size, &back));
    vq_pq_free(back);

    /* ---- VQ_STATUS_WRONG_KIND ---- */
    EXPECT_STATUS(vq_sq_load_buffer(buf, size, &sout), VQ_STATUS_WRONG_KIND);
    EXPECT_MESSAGE("holds a product quantizer");
    char *sq_path = join(argv[1], "errors_sq.vqm");
    OK(vq_sq_save(sq, sq_path));
    EXPECT_STATUS(vq_pq_load(sq_path, &out), VQ_STATUS_WRONG_KIND);
    free(sq_path);
    CHECK(out == SENTINEL_PQ && sout == SENTINEL_SQ);

    /* Status strings cover every value, and unknown values. */
    for (uint32_t s = 0; s <= VQ_STATUS_LAST; s++) CHECK(strncmp(vq_status_str(s), "VQ_STATUS_", 10) == 0);
    CHECK(strstr(vq_status_str(12345), "unknown") != NULL);

    /* The message is per thread and survives a successful call. */
    EXPECT_STATUS(vq_pq_train(d, 0, 16, x, n * d, NULL, &out), VQ_STATUS_INVALID_ARGUMENT);
    OK(vq_pq_encode(pq, x, 8 * d, codes, sizeof codes));
    EXPECT_MESSAGE("m (sub-quantizers)");

    /* Zero rows are fine everywhere. */
    OK(vq_pq_encode(pq, NULL, 0, NULL, 0));
    OK(vq_pq_adc_scan(pq, table, 40, NULL, 0, NULL, 0));
    OK(vq_pq_search(pq, x, d, NULL, 0, 2, dist, 2, lab, 2));
    CHECK(lab[0] == -1 && lab[1] == -1 && isinf(dist[0]));

    free(buf);
    free(x);
    vq_pq_free(pq);
    vq_sq_free(sq);
    printf("errors: ok\n");
    return 0;
}
