/* series_check: unit checks of examples/series.c's own functions (tokenization, quantiles,
   metrics, baselines, CSV cells, timestamps) and, with the shipped model, artr's loss on the
   fixture of tools/train_series.py against PyTorch's.
   usage: build/series_check [MODEL [FIXTURE]]   (run from the repository root)
   Prints "ok"/"FAIL" lines; exits non-zero if any failed. */
#define main artr_series_main
#include "../examples/series.c"
#undef main

static int n_pass, n_fail;

static void check(int cond, const char *what)
{
    if (cond) n_pass++;
    else n_fail++;
    printf("%s  %s\n", cond ? "ok   " : "FAIL ", what);
}

/* A deterministic uniform double in [0, 1). */
static double uniform(uint64_t *state)
{
    *state = mix_seed(*state, 7);
    return (double)(*state >> 11) / 9007199254740992.0;
}

/* Every value inside [low * s, high * s] comes back within half a bin (times s); values
   outside clip to the edge bins; tokens stay in [n_special, n_special + n_bins). */
static void check_round_trip(const series_vocab *v, const char *label)
{
    static const double scales[] = {1.0, 0.37, 1234.5, 1e-3};
    uint64_t rng = 42;
    double worst = 0, half = 0.5 * bin_width(v);
    int i, k, in_range = 1, clipped;
    char msg[160];
    for (k = 0; k < 4; k++) {
        double s = scales[k];
        for (i = 0; i < 20000; i++) {
            double x = (v->low + uniform(&rng) * (v->high - v->low)) * s;
            int32_t tok = series_token(v, x, s);
            double err = fabs(series_value(v, tok, s) - x) / s;
            in_range &= tok >= v->n_special && tok < v->n_special + v->n_bins;
            if (err > worst) worst = err;
        }
    }
    snprintf(msg, sizeof msg, "%s: round trip within half a bin (worst %.6f, half bin %.6f, 80000 values)", label,
             worst, half);
    check(worst <= half * (1 + 1e-9) && in_range, msg);
    clipped = series_token(v, 1e9, 1.0) == v->n_special + v->n_bins - 1 && series_token(v, -1e9, 1.0) == v->n_special &&
              series_value(v, series_token(v, 3 * v->high, 1.0), 1.0) == v->high;
    snprintf(msg, sizeof msg, "%s: values beyond [low, high] clip to the edge bins", label);
    check(clipped, msg);
}

static void check_scale_and_quantiles(void)
{
    double x[4] = {-1, 2, -3, 6}, z[3] = {0, 0, 0}, v[5] = {1, 2, 3, 4, 10};
    double q[9], prev = -1e300;
    int i, mono = 1;
    check(series_scale(x, 4) == 3.0 && series_scale(z, 3) == 1.0, "scale = mean |x|, 1 for an all-zero context");
    check(quantile_sorted(v, 5, 0.5) == 3 && quantile_sorted(v, 4, 0.5) == 2.5 && fabs(quantile_sorted(v, 5, 0.9) - 7.6) < 1e-12 &&
              quantile_sorted(v, 1, 0.3) == 1,
          "quantiles interpolate linearly between order statistics (type 7)");
    for (i = 0; i < 9; i++) {
        q[i] = quantile_sorted(v, 5, 0.1 * (i + 1));
        mono &= q[i] >= prev;
        prev = q[i];
    }
    check(mono, "quantiles 0.1..0.9 of sorted samples are monotone");
}

static void check_parsers(void)
{
    double d = 0, qs[MAX_QUANTILES];
    int n = 0;
    long long t = 0;
    char buf[64];
    check(parse_cell("3.5", &d) == 1 && d == 3.5 && parse_cell("", &d) == 0 && parse_cell("NaN", &d) == 0 &&
              parse_cell("NA", &d) == 0 && parse_cell("abc", &d) == -1 && parse_cell("1e999", &d) == -1 &&
              parse_cell("inf", &d) == -1 && parse_cell("2x", &d) == -1,
          "CSV cells: numbers, missing (empty, NaN, NA), not numbers (text, inf, overflow)");
    check(parse_quantiles("0.9,0.1,0.5,0.5", qs, &n) && n == 3 && qs[0] == 0.1 && qs[2] == 0.9 &&
              !parse_quantiles("0.1,1.5", qs, &n) && !parse_quantiles("0,0.5", qs, &n) && !parse_quantiles("", qs, &n) &&
              !parse_quantiles("0.1,,0.2", qs, &n),
          "--quantiles: sorted, deduplicated, each in (0, 1)");
    check(parse_time("2018-06-26 19:00:00", &t) && t == 1530039600LL, "timestamp 2018-06-26 19:00:00 = 1530039600");
    format_time(t + 3600, buf, sizeof buf);
    check(!strcmp(buf, "2018-06-26 20:00:00") && parse_time("2016-02-29T23:59", &t) && !parse_time("2016-13-01", &t) &&
              !parse_time("hello", &t) && !parse_time("2016-01-01 10:00:00x", &t),
          "timestamps: one hour later, ISO 'T', bad dates refused");
    format_time(-1, buf, sizeof buf);
    check(!strcmp(buf, "1969-12-31 23:59:59"), "timestamps before 1970 format correctly");
}

static void check_metrics(void)
{
    double x[96], y[24], point[24], w[AR_ORDER + 1], ar[5000], f[3];
    score sc;
    int i;
    uint64_t rng = 5;
    for (i = 0; i < 96; i++) x[i] = 10 + sin(2 * 3.14159265358979 * i / 24);
    for (i = 0; i < 24; i++) y[i] = 10 + sin(2 * 3.14159265358979 * (96 + i) / 24);
    snaive_forecast(x, 96, 24, 24, point);
    memset(&sc, 0, sizeof sc);
    score_add(&sc, y, 24, point, NULL, 1.0);
    check(score_mase(&sc) < 1e-9 && score_wql(&sc) < 1e-9, "seasonal naive on a periodic series: MASE 0, WQL 0");
    check(seasonal_error(x, 96, 24) < 1e-12 && seasonal_error(x, 24, 24) == 0, "in-sample seasonal error");
    for (i = 0; i < 24; i++) point[i] = y[i] + 1;
    memset(&sc, 0, sizeof sc);
    score_add(&sc, y, 24, point, NULL, 2.0);
    /* a point forecast off by 1 everywhere: MASE 1/2; WQL = 2 * mean_q(1 - q) * 24 / sum|y| */
    check(fabs(score_mase(&sc) - 0.5) < 1e-12 && fabs(score_wql(&sc) - 2 * 0.5 * 24 / (24 * 10.0)) < 2e-3,
          "MASE and WQL of a constant error");
    check(pinball(3, 1, 0.9) == 0.9 * 2 && fabs(pinball(1, 3, 0.9) - 0.2) < 1e-12, "pinball loss");
    ar[0] = ar[1] = 0;
    for (i = 2; i < 5000; i++) ar[i] = 0.5 + 0.6 * ar[i - 1] - 0.2 * ar[i - 2] + 0.1 * (uniform(&rng) - 0.5);
    check(ar_fit(ar, 5000, 2, w) && fabs(w[0] - 0.5) < 0.02 && fabs(w[1] - 0.6) < 0.02 && fabs(w[2] + 0.2) < 0.02,
          "AR(2) least squares recovers its coefficients");
    ar_forecast(w, 2, ar, 5000, 3, f);
    check(fabs(f[0] - (w[0] + w[1] * ar[4999] + w[2] * ar[4998])) < 1e-12 &&
              fabs(f[1] - (w[0] + w[1] * f[0] + w[2] * ar[4999])) < 1e-12,
          "AR forecast feeds its own predictions");
}

/* tools/train_series.py's fixture: raw values, PyTorch's token ids, PyTorch's loss. */
static void check_fixture(const char *model_path, const char *fixture)
{
    FILE *fp = fopen(fixture, "rb");
    int32_t hdr[4];
    double torch_loss, *x = NULL, nll = 0;
    int32_t *ids = NULL;
    artr_model *m = NULL;
    artr_ctx *c = NULL;
    artr_ctx_params cp;
    artr_error err;
    series_vocab v;
    long count = 0;
    int w, i, n_win, ctx, pred, seq, same = 1;
    char msg[200];
    if (!fp) {
        printf("skip  artr vs PyTorch loss: %s not found\n", fixture);
        return;
    }
    if (fread(hdr, 4, 4, fp) != 4 || fread(&torch_loss, 8, 1, fp) != 1 || hdr[0] != 0x53524553 || hdr[1] < 1 ||
        hdr[1] > 64 || hdr[2] < 1 || hdr[3] < 1 || hdr[2] + hdr[3] > 4096) {
        check(0, "fixture header");
        fclose(fp);
        return;
    }
    n_win = hdr[1];
    ctx = hdr[2];
    pred = hdr[3];
    seq = ctx + pred;
    x = (double *)malloc((size_t)n_win * (size_t)seq * sizeof *x);
    ids = (int32_t *)malloc((size_t)n_win * (size_t)seq * sizeof *ids);
    if (!x || !ids || fread(x, 8, (size_t)n_win * (size_t)seq, fp) != (size_t)n_win * (size_t)seq ||
        fread(ids, 4, (size_t)n_win * (size_t)seq, fp) != (size_t)n_win * (size_t)seq) {
        check(0, "fixture body");
        goto done;
    }
    if (artr_model_load_file(&m, model_path, NULL, &err) != ARTR_OK || !series_vocab_read(m, model_path, &v)) {
        check(0, "load the series model");
        goto done;
    }
    check_round_trip(&v, "the model's bins");
    for (w = 0; w < n_win; w++) {
        const double *xw = x + (size_t)w * (size_t)seq;
        double s = series_scale(xw, ctx);
        for (i = 0; i < seq; i++) same &= series_token(&v, xw[i], s) == ids[(size_t)w * (size_t)seq + (size_t)i];
    }
    snprintf(msg, sizeof msg, "tokenization of %d x %d values equals tools/train_series.py's", n_win, seq);
    check(same, msg);
    memset(&cp, 0, sizeof cp);
    cp.n_ctx = seq;
    cp.n_batch = 64;
    if (artr_ctx_create(&c, m, &cp, &err) != ARTR_OK) {
        check(0, err.msg);
        goto done;
    }
    for (w = 0; w < n_win; w++) {
        const int32_t *tw = ids + (size_t)w * (size_t)seq;
        artr_ctx_truncate(c, 0, NULL);
        for (i = 0; i < seq - 1; i += cp.n_batch) {
            artr_batch b;
            int k = seq - 1 - i < cp.n_batch ? seq - 1 - i : cp.n_batch, r;
            memset(&b, 0, sizeof b);
            b.tokens = tw + i;
            b.n = k;
            b.logits = ARTR_LOGITS_ALL;
            if (artr_forward_batch(c, &b, &err) != ARTR_OK) {
                check(0, err.msg);
                goto done;
            }
            for (r = 0; r < k; r++) {
                int pos = i + r, nv = artr_model_config(m)->n_vocab, t;
                const float *lg = artr_logits(c, r);
                double mx = lg[0], sum = 0;
                if (pos + 1 < ctx) continue; /* score the forecast part, as the recipe does */
                for (t = 1; t < nv; t++) mx = lg[t] > mx ? lg[t] : mx;
                for (t = 0; t < nv; t++) sum += exp((double)lg[t] - mx);
                nll += log(sum) + mx - lg[tw[pos + 1]];
                count++;
            }
        }
    }
    snprintf(msg, sizeof msg, "artr's forecast loss on the fixture %.6f = PyTorch's %.6f (%ld tokens)",
             nll / (double)count, torch_loss, count);
    check(count == (long)n_win * pred && fabs(nll / (double)count - torch_loss) < 1e-3, msg);
done:
    artr_ctx_free(c);
    artr_model_free(m);
    free(x);
    free(ids);
    fclose(fp);
}

int main(int argc, char **argv)
{
    const char *model = argc > 1 ? argv[1] : "models/etth1.gguf";
    const char *fixture = argc > 2 ? argv[2] : "tests/fixtures/series/val.bin";
    series_vocab v;
    memset(&v, 0, sizeof v);
    v.n_bins = 510;
    v.n_special = 2;
    v.low = -10;
    v.high = 10;
    check_round_trip(&v, "510 bins over [-10, 10]");
    v.n_bins = 4094;
    v.low = -15;
    v.high = 15;
    check_round_trip(&v, "Chronos' 4094 bins over [-15, 15]");
    check_scale_and_quantiles();
    check_parsers();
    check_metrics();
    {
        FILE *fp = fopen(model, "rb");
        if (fp) {
            fclose(fp);
            check_fixture(model, fixture);
        } else {
            printf("skip  artr vs PyTorch loss: %s not found\n", model);
        }
    }
    return n_fail ? 1 : 0;
}
