// C++17: one trained quantizer shared by many threads, the way a search engine uses it.
// RAII owners for the handles, every thread scanning its own slice of queries into its own
// buffers; the results must equal one thread's. Also checks the header compiles as C++.
//
// usage: threads FIXTURE_DIR
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testutil.h"

namespace {

struct PqDeleter {
    void operator()(vq_pq *p) const noexcept { vq_pq_free(p); }
};
struct SqDeleter {
    void operator()(vq_sq *p) const noexcept { vq_sq_free(p); }
};
using Pq = std::unique_ptr<vq_pq, PqDeleter>;
using Sq = std::unique_ptr<vq_sq, SqDeleter>;

void ok(vq_status s, const char *what) {
    if (s != VQ_STATUS_OK) throw std::runtime_error(std::string(what) + ": " + vq_last_error());
}

std::vector<float> read_fvecs(const std::string &path, size_t &n, size_t &d) {
    void *raw = read_vecs4(path.c_str(), &n, &d);
    std::vector<float> v(static_cast<float *>(raw), static_cast<float *>(raw) + n * d);
    free(raw);
    return v;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    try {
        const std::string dir = argv[1];
        size_t nb = 0, d = 0, nq = 0, dq = 0;
        std::vector<float> base = read_fvecs(dir + "/minilm_base_2k.fvecs", nb, d);
        std::vector<float> queries = read_fvecs(dir + "/minilm_query_100.fvecs", nq, dq);
        CHECK(dq == d);

        vq_train_params params = vq_train_params_default();
        params.iterations = 10;
        vq_pq *raw = nullptr;
        ok(vq_pq_train(d, 24, 256, base.data(), base.size(), &params, &raw), "train");
        Pq pq(raw);
        const size_t cs = vq_pq_code_size(pq.get());
        std::vector<uint8_t> codes(nb * cs);
        ok(vq_pq_encode(pq.get(), base.data(), base.size(), codes.data(), codes.size()), "encode");

        vq_sq *sraw = nullptr;
        ok(vq_sq_train(8, d, base.data(), base.size(), &sraw), "sq train");
        Sq sq(sraw);
        std::vector<uint8_t> scodes(nb * vq_sq_code_size(sq.get()));
        ok(vq_sq_encode(sq.get(), base.data(), base.size(), scodes.data(), scodes.size()), "sq encode");

        const size_t k = 10;
        std::vector<float> want_d(nq * k), want_sd(nq * k);
        std::vector<int64_t> want_l(nq * k), want_sl(nq * k);
        // One thread, one query per call (a batch of four or more SQ queries takes another
        // code path whose sums round differently in the last bits).
        for (size_t q = 0; q < nq; q++) {
            const float *qv = queries.data() + q * d;
            ok(vq_pq_search(pq.get(), qv, d, codes.data(), codes.size(), k, &want_d[q * k], k, &want_l[q * k], k),
               "search");
            ok(vq_sq_search(sq.get(), qv, d, scodes.data(), scodes.size(), k, &want_sd[q * k], k, &want_sl[q * k], k),
               "sq search");
        }

        // Eight threads, each one query at a time through the table + scan path and the
        // search path, sharing the two handles. Errors are counted, not thrown across threads.
        const size_t threads = 8;
        std::vector<float> got_d(nq * k), got_sd(nq * k);
        std::vector<int64_t> got_l(nq * k), got_sl(nq * k);
        std::vector<int> failures(threads, 0);
        std::vector<std::thread> pool;
        for (size_t t = 0; t < threads; t++) {
            pool.emplace_back([&, t] {
                std::vector<float> table(vq_pq_m(pq.get()) * vq_pq_ksub(pq.get()));
                std::vector<float> scan(nb);
                for (size_t q = t; q < nq; q += threads) {
                    const float *qv = queries.data() + q * d;
                    failures[t] += vq_pq_search(pq.get(), qv, d, codes.data(), codes.size(), k, &got_d[q * k], k,
                                                &got_l[q * k], k) != VQ_STATUS_OK;
                    failures[t] += vq_sq_search(sq.get(), qv, d, scodes.data(), scodes.size(), k, &got_sd[q * k],
                                                k, &got_sl[q * k], k) != VQ_STATUS_OK;
                    failures[t] += vq_pq_distance_table(pq.get(), qv, d, table.data(), table.size()) != VQ_STATUS_OK;
                    failures[t] += vq_pq_adc_scan(pq.get(), table.data(), table.size(), codes.data(), codes.size(),
                                                  scan.data(), scan.size()) != VQ_STATUS_OK;
                    // The scan agrees with the search's best distance.
                    failures[t] += scan[static_cast<size_t>(got_l[q * k])] != got_d[q * k];
                }
            });
        }
        for (auto &th : pool) th.join();
        for (int f : failures) CHECK(f == 0);
        CHECK(got_l == want_l && got_sl == want_sl);
        CHECK(std::memcmp(got_d.data(), want_d.data(), got_d.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(got_sd.data(), want_sd.data(), got_sd.size() * sizeof(float)) == 0);

        // Errors surface as statuses in C++ too, and the message is per thread.
        std::string other_thread_msg;
        std::thread([&] {
            vq_pq *none = nullptr;
            CHECK(vq_pq_train(d, 0, 256, base.data(), base.size(), nullptr, &none) == VQ_STATUS_INVALID_ARGUMENT);
            other_thread_msg = vq_last_error();
        }).join();
        CHECK(other_thread_msg.find("m (sub-quantizers)") != std::string::npos);
        CHECK(other_thread_msg != vq_last_error());
        std::printf("threads: ok (%zu threads, %zu queries)\n", threads, nq);
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "threads: %s\n", e.what());
        return 1;
    }
}
