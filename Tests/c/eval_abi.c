/* eval_abi.c — the evaluation C API at its boundary: NULLs, bad sizes, bad options, labels out
 * of range, k larger than the training set, NaN features, small buffers, short (older) structs.
 * Every failure comes back as the documented status with a message and leaves the outputs
 * untouched; successes are checked against hand-computed values. Nothing traps. Built and run
 * by `make test`. */
#include <contrastive.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures = 0, checks = 0;

#define EXPECT(expr, status)                                                                 \
    do {                                                                                     \
        ctr_status got_ = (expr);                                                            \
        checks++;                                                                            \
        if (got_ != (status)) {                                                              \
            failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s -> %d (%s), expected %d; last error: %s\n", __FILE__, \
                    __LINE__, #expr, got_, ctr_status_string(got_), (status), ctr_last_error()); \
        } else if (got_ != CTR_STATUS_OK && ctr_last_error()[0] == '\0') {                   \
            failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__, __LINE__, #expr); \
        }                                                                                    \
    } while (0)

#define EXPECT_TRUE(cond)                                                                    \
    do {                                                                                     \
        checks++;                                                                            \
        if (!(cond)) { failures++; fprintf(stderr, "%s:%d: %s is false\n", __FILE__, __LINE__, #cond); } \
    } while (0)

enum { NTR = 8, NTE = 4, D = 2, C = 2 };

int main(void) {
    /* Two classes on two rays: class 0 near (1, 0), class 1 near (0, 1). */
    float train[NTR * D] = {1, 0.1f, 2, 0.2f, 1, -0.1f, 3, 0.05f,  0.1f, 1, 0.2f, 2, -0.1f, 1, 0.05f, 3};
    int32_t ytr[NTR] = {0, 0, 0, 0, 1, 1, 1, 1};
    float test[NTE * D] = {1, 0, 0, 1, 2, 0.3f, 0.3f, 2};
    int32_t yte[NTE] = {0, 1, 0, 1};

    /* ---- kNN ---------------------------------------------------------------------------- */
    ctr_knn_options ko;
    ctr_knn_options_default(&ko);
    EXPECT_TRUE(ko.struct_size == sizeof ko && ko.k == 200 && ko.temperature == 0.1f);
    ctr_knn_options_default(NULL);
    ko.k = 3;
    ctr_knn_result kr;
    memset(&kr, 0, sizeof kr);
    kr.struct_size = sizeof kr;
    int32_t pred[NTE] = {-7, -7, -7, -7};
    float scores[NTE * C];
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE, scores, NTE * C), CTR_STATUS_OK);
    EXPECT_TRUE(kr.top1 == 1.0 && kr.top5 == 1.0 && kr.struct_size == sizeof kr);
    EXPECT_TRUE(pred[0] == 0 && pred[1] == 1 && pred[2] == 0 && pred[3] == 1);
    EXPECT_TRUE(fabsf(scores[0] + scores[1] - 1.0f) < 1e-6f && scores[0] > 0.99f);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_OK);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, NULL, &kr, NULL, 0, NULL, 0),
           CTR_STATUS_INVALID_ARGUMENT);                                         /* default k = 200 > 8 rows */
    EXPECT_TRUE(strstr(ctr_last_error(), "larger than the training set") != NULL);

    /* failures leave the result and outputs untouched */
    kr.top1 = -1.0;
    pred[0] = -7;
    ko.k = 9;
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    ko.k = 0;
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    ko.k = 3;
    float temps[] = {0.0f, -1.0f, (float)NAN, (float)INFINITY};
    for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
        ko.temperature = temps[t];
        EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    }
    ko.temperature = 0.1f;
    EXPECT(ctr_knn_evaluate(NULL, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, NULL, NTR, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, NULL, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, NULL, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, NULL, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, 0, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, 0, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, -1, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, INT64_MAX, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, 1 << 30, test, yte, NTE, 1 << 30, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_OUT_OF_MEMORY);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, 0, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, 0, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, -3, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE - 1, NULL, 0), CTR_STATUS_BUFFER_TOO_SMALL);
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, NULL, 0, scores, NTE * C - 1), CTR_STATUS_BUFFER_TOO_SMALL);
    ytr[5] = 2;                                                                  /* out of range */
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(ctr_last_error(), "train_labels[5]") != NULL);
    ytr[5] = -1;
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    ytr[5] = 1;
    yte[2] = 5;
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    yte[2] = 0;
    train[3] = (float)NAN;
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE, NULL, 0), CTR_STATUS_NUMERIC);
    EXPECT_TRUE(strstr(ctr_last_error(), "train[1, 1]") != NULL);
    train[3] = 0.2f;
    test[6] = (float)-INFINITY;
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, pred, NTE, NULL, 0), CTR_STATUS_NUMERIC);
    test[6] = 0.3f;
    EXPECT_TRUE(kr.top1 == -1.0 && pred[0] == -7);
    /* options / result structs: bad and older (shorter) sizes */
    ko.struct_size = 0;
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    ko.struct_size = (uint32_t)offsetof(ctr_knn_options, temperature);          /* k given, T default */
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_OK);
    ctr_knn_options_default(&ko);
    ko.k = 3;
    kr.struct_size = 3;
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    kr.struct_size = (uint32_t)offsetof(ctr_knn_result, top5);                   /* an older result: top1 only */
    kr.top1 = -1.0; kr.top5 = -1.0;
    EXPECT(ctr_knn_evaluate(train, ytr, NTR, test, yte, NTE, D, C, &ko, &kr, NULL, 0, NULL, 0), CTR_STATUS_OK);
    EXPECT_TRUE(kr.top1 == 1.0 && kr.top5 == -1.0 && kr.struct_size == offsetof(ctr_knn_result, top5));
    kr.struct_size = sizeof kr;

    /* ---- linear probe -------------------------------------------------------------------- */
    ctr_linear_probe_options po;
    ctr_linear_probe_options_default(&po);
    EXPECT_TRUE(po.struct_size == sizeof po && po.solver == CTR_PROBE_LBFGS && po.standardize == 1 && po.batch_size == 256);
    ctr_linear_probe_result pr;
    memset(&pr, 0, sizeof pr);
    pr.struct_size = sizeof pr;
    float w[C * D], b[C];
    po.l2 = 1e-2;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, w, C * D, b, C), CTR_STATUS_OK);
    EXPECT_TRUE(pr.top1 == 1.0 && pr.train_top1 == 1.0 && pr.loss > 0 && pr.iterations >= 1);
    /* raw-feature weights: class 0's logit wins on (1, 0), class 1's on (0, 1) */
    EXPECT_TRUE(w[0] + b[0] > w[2] + b[1] && w[1] + b[0] < w[3] + b[1]);
    po.solver = CTR_PROBE_SGD;
    po.epochs = 20;
    po.batch_size = 3;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_OK);
    EXPECT_TRUE(pr.top1 == 1.0 && pr.iterations == 20 * 3);
    pr.top1 = -1.0;
    po.solver = 7;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    po.solver = CTR_PROBE_SGD;
    po.momentum = 1.0;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    po.momentum = 0.9;
    po.learning_rate = NAN;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    po.learning_rate = 1e30;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_NUMERIC);
    ctr_linear_probe_options_default(&po);
    po.l2 = -1;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    po.l2 = 1e-2;
    po.standardize = 2;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    po.standardize = 1;
    po.max_iterations = 0;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    po.max_iterations = 100;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, w, C * D - 1, NULL, 0), CTR_STATUS_BUFFER_TOO_SMALL);
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, b, 1), CTR_STATUS_BUFFER_TOO_SMALL);
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, 0, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, NULL, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    ytr[0] = 2;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    ytr[0] = 0;
    train[0] = (float)INFINITY;
    EXPECT(ctr_linear_probe(train, ytr, NTR, test, yte, NTE, D, C, &po, &pr, NULL, 0, NULL, 0), CTR_STATUS_NUMERIC);
    train[0] = 1;
    EXPECT_TRUE(pr.top1 == -1.0);

    /* ---- retrieval ----------------------------------------------------------------------- */
    ctr_retrieval_options ro;
    ctr_retrieval_options_default(&ro);
    EXPECT_TRUE(ro.struct_size == sizeof ro && ro.k == 10);
    ctr_retrieval_result rr;
    memset(&rr, 0, sizeof rr);
    rr.struct_size = sizeof rr;
    double ap[NTE];
    ro.k = 4;
    EXPECT(ctr_retrieval_map(train, ytr, NTR, test, yte, NTE, D, &ro, &rr, ap, NTE), CTR_STATUS_OK);
    /* each query's 4 same-class rows come first: every AP is 1 */
    EXPECT_TRUE(rr.map == 1.0 && rr.map_at_k == 1.0 && rr.precision_at_k == 1.0 && rr.recall_at_1 == 1.0);
    EXPECT_TRUE(rr.num_queries == NTE && rr.num_without_relevant == 0 && ap[3] == 1.0);
    EXPECT(ctr_retrieval_map(train, ytr, NTR, test, yte, NTE, D, NULL, &rr, NULL, 0), CTR_STATUS_INVALID_ARGUMENT); /* k 10 > 8 */
    ro.k = 0;
    EXPECT(ctr_retrieval_map(train, ytr, NTR, test, yte, NTE, D, &ro, &rr, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    ro.k = 2;
    EXPECT(ctr_retrieval_map(train, ytr, NTR, test, yte, NTE, D, &ro, &rr, ap, 1), CTR_STATUS_BUFFER_TOO_SMALL);
    EXPECT(ctr_retrieval_map(train, ytr, NTR, test, NULL, NTE, D, &ro, &rr, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    test[1] = (float)NAN;
    EXPECT(ctr_retrieval_map(train, ytr, NTR, test, yte, NTE, D, &ro, &rr, NULL, 0), CTR_STATUS_NUMERIC);
    test[1] = 0;

    /* ---- k-means + clustering scores ----------------------------------------------------- */
    ctr_kmeans_options mo;
    ctr_kmeans_options_default(&mo);
    EXPECT_TRUE(mo.struct_size == sizeof mo && mo.max_iterations == 300 && mo.restarts == 1);
    ctr_kmeans_result mr;
    memset(&mr, 0, sizeof mr);
    mr.struct_size = sizeof mr;
    float pts[6 * D] = {0, 0, 0, 1, 1, 0, 10, 10, 10, 11, 11, 10};
    int32_t assign[6];
    float cent[2 * D];
    mo.restarts = 3;
    EXPECT(ctr_kmeans(pts, 6, D, 2, &mo, &mr, assign, 6, cent, 2 * D), CTR_STATUS_OK);
    EXPECT_TRUE(assign[0] == assign[1] && assign[1] == assign[2] && assign[3] == assign[4] && assign[4] == assign[5] && assign[0] != assign[3]);
    EXPECT_TRUE(fabs(mr.inertia - 8.0 / 3.0) < 1e-5 && mr.converged == 1);   /* 2 × (2/9 + 5/9 + 5/9) */
    int32_t truth[6] = {4, 4, 4, 9, 9, 9};
    ctr_clustering_result cr;
    memset(&cr, 0, sizeof cr);
    cr.struct_size = sizeof cr;
    EXPECT(ctr_clustering_scores(truth, assign, 6, &cr), CTR_STATUS_OK);
    EXPECT_TRUE(cr.nmi == 1.0 && cr.ari == 1.0 && cr.purity == 1.0 && cr.num_classes == 2 && cr.num_clusters == 2);
    mr.inertia = -1;
    EXPECT(ctr_kmeans(pts, 6, D, 7, &mo, &mr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_kmeans(pts, 6, D, 0, &mo, &mr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_kmeans(NULL, 6, D, 2, &mo, &mr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_kmeans(pts, 6, D, 2, &mo, &mr, assign, 5, NULL, 0), CTR_STATUS_BUFFER_TOO_SMALL);
    EXPECT(ctr_kmeans(pts, 6, D, 2, &mo, &mr, NULL, 0, cent, 3), CTR_STATUS_BUFFER_TOO_SMALL);
    mo.tolerance = -1;
    EXPECT(ctr_kmeans(pts, 6, D, 2, &mo, &mr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    mo.tolerance = NAN;
    EXPECT(ctr_kmeans(pts, 6, D, 2, &mo, &mr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    ctr_kmeans_options_default(&mo);
    mo.restarts = 0;
    EXPECT(ctr_kmeans(pts, 6, D, 2, &mo, &mr, NULL, 0, NULL, 0), CTR_STATUS_INVALID_ARGUMENT);
    mo.restarts = 1;
    pts[4] = (float)NAN;
    EXPECT(ctr_kmeans(pts, 6, D, 2, &mo, &mr, NULL, 0, NULL, 0), CTR_STATUS_NUMERIC);
    pts[4] = 1;
    EXPECT_TRUE(mr.inertia == -1);
    truth[2] = -4;
    EXPECT(ctr_clustering_scores(truth, assign, 6, &cr), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(ctr_last_error(), "labels[2]") != NULL);
    EXPECT(ctr_clustering_scores(truth, assign, 0, &cr), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_clustering_scores(NULL, assign, 6, &cr), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_clustering_scores(truth, assign, 6, NULL), CTR_STATUS_INVALID_ARGUMENT);

    /* ---- top-k, effective rank ------------------------------------------------------------ */
    float sc[2 * 3] = {3, 1, 3, 0, 2, 1};
    int32_t lab[2] = {2, 1};
    double acc = -1;
    EXPECT(ctr_topk_accuracy(sc, lab, 2, 3, 1, &acc), CTR_STATUS_OK);
    EXPECT_TRUE(acc == 0.5);                        /* row 0 ties: class 0 ranks ahead of 2 */
    EXPECT(ctr_topk_accuracy(sc, lab, 2, 3, 2, &acc), CTR_STATUS_OK);
    EXPECT_TRUE(acc == 1.0);
    acc = -1;
    EXPECT(ctr_topk_accuracy(sc, lab, 2, 3, 0, &acc), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_topk_accuracy(sc, lab, 2, 0, 1, &acc), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_topk_accuracy(sc, lab, 2, 3, 1, NULL), CTR_STATUS_INVALID_ARGUMENT);
    lab[0] = 3;
    EXPECT(ctr_topk_accuracy(sc, lab, 2, 3, 1, &acc), CTR_STATUS_INVALID_ARGUMENT);
    lab[0] = 2;
    sc[4] = (float)NAN;
    EXPECT(ctr_topk_accuracy(sc, lab, 2, 3, 1, &acc), CTR_STATUS_NUMERIC);
    EXPECT_TRUE(acc == -1);

    float eye[3 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    double rank = -1;
    EXPECT(ctr_effective_rank(eye, 3, 3, 0, &rank), CTR_STATUS_OK);
    EXPECT_TRUE(fabs(rank - 3.0) < 1e-12);
    EXPECT(ctr_effective_rank(eye, 3, 3, 1, &rank), CTR_STATUS_OK);
    EXPECT_TRUE(fabs(rank - 2.0) < 1e-9);           /* centred identity: rank 2, equal spectrum */
    rank = -1;
    EXPECT(ctr_effective_rank(eye, 3, 3, 2, &rank), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_effective_rank(eye, 0, 3, 0, &rank), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_effective_rank(NULL, 3, 3, 0, &rank), CTR_STATUS_INVALID_ARGUMENT);
    EXPECT(ctr_effective_rank(eye, 3, 3, 0, NULL), CTR_STATUS_INVALID_ARGUMENT);
    eye[4] = (float)NAN;
    EXPECT(ctr_effective_rank(eye, 3, 3, 0, &rank), CTR_STATUS_NUMERIC);
    EXPECT_TRUE(rank == -1);

    printf("eval_abi: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
