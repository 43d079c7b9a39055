/* artr-series: probabilistic time-series forecasts with a Chronos-style value-token model.
   Public API only.

   artr-series -m models/etth1.gguf --csv data.csv --column OT --horizon 24 -o f.csv --plot f.svg
   artr-series -m models/etth1.gguf --csv ETTh1.csv --eval       rolling evaluation, test split
   artr-series --help                                            every flag

   Tokens as in Chronos (Ansari et al. 2024, sec. 3.1): the context is divided by its mean
   absolute value s (1 if that is 0), each scaled value becomes the nearest of n_bins uniform
   bin centres over [low, high] (values outside clip to the edge bins), token = n_special + bin.
   A token decodes to its bin centre times s. The model's GGUF carries these numbers as
   series.* metadata. S trajectories are sampled from copies of one prefilled context; the
   forecast's mean and quantiles are taken over them, step by step. */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define CLI_PROG "artr-series"
#define CLI_NO_CLOCK
#include "cli.h"

#define MAX_QUANTILES 32
#define MIN_CONTEXT 32      /* the shortest context the shipped model was trained on */
#define SEASON 24           /* MASE's seasonal period and the seasonal-naive baseline */
#define AR_ORDER 48         /* the linear autoregressive baseline: AR(48), two days */
#define EVAL_QUANTILES 9    /* WQL over 0.1, 0.2, ..., 0.9 */

typedef struct options {
    const char *model, *csv, *column, *out, *plot;
    int context, horizon, samples, n_threads, top_k, eval, stride, n_quantiles;
    int split[3];           /* --eval: train, val, test rows */
    float temperature;
    double quantiles[MAX_QUANTILES];
    uint64_t seed;
} options;

/* The value tokenization stored in the model (series.* metadata). */
typedef struct series_vocab {
    int n_bins, n_special, pad_id, eos_id, context_length, prediction_length;
    double low, high;
} series_vocab;

/* A CSV file split in place: cell (r, c) of the data rows is cells[r * n_cols + c]. */
typedef struct csv_table {
    char *text;
    char **header;          /* n_cols names */
    char **cells;           /* n_rows * n_cols, NUL-terminated, trimmed */
    int *line;              /* n_rows: the file line of each data row (1-based) */
    int n_rows, n_cols;
    int time_col;           /* column 0 when it holds timestamps, else -1 */
} csv_table;

/* S sampled paths of one forecast, and what is taken from them. */
typedef struct forecast {
    int horizon, n_paths;
    float *paths;           /* (n_paths, horizon): values in the series' units */
    double *mean;           /* (horizon) */
    double *q;              /* (n_quantiles, horizon) */
    double *median;         /* (horizon) */
} forecast;

/* One prefilled context and n_paths copies to sample from; reused across windows. */
typedef struct sampler_set {
    const artr_model *m;
    series_vocab v;
    artr_ctx *base;
    artr_ctx **paths;
    int n_paths, n_ctx, n_batch;
    int32_t banned[8];
    int n_banned;
} sampler_set;

static void usage(FILE *f)
{
    fputs("usage: artr-series -m MODEL --csv FILE --column NAME|INDEX [options]\n"
          "       artr-series -m MODEL --csv FILE --eval [--column NAME|INDEX] [options]\n"
          "  -m, --model FILE         series GGUF model (series.* metadata; e.g. models/etth1.gguf)\n"
          "      --csv FILE           CSV with a header line; column 0 holds timestamps if not numeric\n"
          "      --column NAME|INDEX  the series: a header name, or a 0-based column index\n"
          "      --context N          history values the model reads (default: the model's, 512;\n"
          "                           the whole series if shorter; at least 32)\n"
          "      --horizon H          values to forecast (default 24)\n"
          "      --samples S          sampled trajectories (default 100; 20 with --eval)\n"
          "      --quantiles LIST     comma-separated, in (0, 1) (default 0.1,0.5,0.9)\n"
          "      --seed N             sampling seed (default 1; the same seed, the same forecast)\n"
          "      --temp T             sampling temperature (default 1)\n"
          "      --top-k K            sample from the K likeliest bins (default 50; 0 = all)\n"
          "  -t, --threads N          threads over trajectories (default: OpenMP's)\n"
          "  -o, --output FILE        forecast CSV: timestamp, mean, quantiles (default: stdout)\n"
          "      --plot FILE          SVG plot: recent history, median, shaded quantile interval\n"
          "      --eval               rolling-origin evaluation over the test split (every numeric\n"
          "                           column unless --column): MASE and WQL against seasonal\n"
          "                           naive and a least-squares AR(48) fitted on the train split\n"
          "      --split A,B,C        --eval: train, val, test rows (default 8640,2880,2880, ETT's)\n"
          "      --stride N           --eval: rows between forecast origins (default 24)\n"
          "  -h, --help               this text\n"
          "Missing values (empty, NaN, NA) are rejected, not imputed; fill or cut the gap first.\n",
          f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "0.1,0.5,0.9": each in (0, 1), sorted ascending, duplicates dropped. */
static int parse_quantiles(const char *s, double *q, int *n)
{
    int k = 0, i, j;
    while (*s) {
        char *end;
        double v;
        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || !(v > 0 && v < 1) || k == MAX_QUANTILES) return 0;
        q[k++] = v;
        if (*end == ',') end++;
        else if (*end) return 0;
        s = end;
    }
    if (k == 0) return 0;
    qsort(q, (size_t)k, sizeof *q, cmp_double);
    for (i = 1, j = 1; i < k; i++)
        if (q[i] != q[j - 1]) q[j++] = q[i];
    *n = j;
    return 1;
}

/* "8640,2880,2880" */
static int parse_split(const char *s, int *split)
{
    char buf[64];
    char *p, *comma;
    int i;
    if (strlen(s) >= sizeof buf) return 0;
    strcpy(buf, s);
    p = buf;
    for (i = 0; i < 3; i++) {
        comma = strchr(p, ',');
        if ((i < 2) != (comma != NULL)) return 0;
        if (comma) *comma = 0;
        if (!parse_int(p, i == 1 ? 0 : 1, 1 << 28, &split[i])) return 0;
        p = comma ? comma + 1 : p;
    }
    return 1;
}

static int known_value_option(const char *a)
{
    static const char *const names[] = {"-m", "--model", "--csv", "--column", "--context", "--horizon",
                                        "--samples", "--quantiles", "--seed", "-s", "--temp", "--top-k",
                                        "-t", "--threads", "-o", "--output", "--plot", "--split",
                                        "--stride"};
    return in_list(a, names, sizeof names / sizeof names[0]);
}

/* 0 ok, 1 --help shown, 2 bad usage (message printed). */
static int parse_args(int argc, char **argv, options *o)
{
    int i, samples_given = 0;
    memset(o, 0, sizeof *o);
    o->horizon = 24;
    o->samples = 100;
    o->seed = 1;
    o->temperature = 1.0f;
    o->top_k = 50;
    o->stride = 24;
    o->split[0] = 12 * 30 * 24;
    o->split[1] = 4 * 30 * 24;
    o->split[2] = 4 * 30 * 24;
    o->n_quantiles = 3;
    o->quantiles[0] = 0.1;
    o->quantiles[1] = 0.5;
    o->quantiles[2] = 0.9;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1, takes = 1;
        if (is(a, "-h", "--help")) {
            usage(stdout);
            return 1;
        } else if (is(a, "--eval", NULL)) {
            o->eval = 1;
            takes = 0;
        } else if (!known_value_option(a)) {
            fprintf(stderr, "artr-series: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!v) {
            fprintf(stderr, "artr-series: missing value after %s (see --help)\n", a);
            return 2;
        } else if (is(a, "-m", "--model")) o->model = v;
        else if (is(a, "--csv", NULL)) o->csv = v;
        else if (is(a, "--column", NULL)) o->column = v;
        else if (is(a, "-o", "--output")) o->out = v;
        else if (is(a, "--plot", NULL)) o->plot = v;
        else if (is(a, "--context", NULL)) {
            ok = parse_int(v, 1, 1 << 20, &o->context);
            if (ok && o->context < MIN_CONTEXT) {
                fprintf(stderr, "artr-series: --context %d is too short: at least %d values (see --help)\n", o->context, MIN_CONTEXT);
                return 2;
            }
        }
        else if (is(a, "--horizon", NULL)) ok = parse_int(v, 1, 1 << 20, &o->horizon);
        else if (is(a, "--samples", NULL)) ok = samples_given = parse_int(v, 1, 4096, &o->samples);
        else if (is(a, "--quantiles", NULL)) ok = parse_quantiles(v, o->quantiles, &o->n_quantiles);
        else if (is(a, "--temp", NULL)) ok = parse_float(v, 0, 100, &o->temperature);
        else if (is(a, "--top-k", NULL)) ok = parse_int(v, 0, 1 << 30, &o->top_k);
        else if (is(a, "-t", "--threads")) ok = parse_int(v, 1, 512, &o->n_threads);
        else if (is(a, "--split", NULL)) ok = parse_split(v, o->split);
        else if (is(a, "--stride", NULL)) ok = parse_int(v, 1, 1 << 20, &o->stride);
        else if (is(a, "-s", "--seed")) {
            ok = parse_u64(v, &o->seed);
        }
        if (!ok) {
            fprintf(stderr, "artr-series: bad value '%s' for %s (see --help)\n", v, a);
            return 2;
        }
        i += takes;
    }
    if (!o->model) return fail("no model given (-m FILE; see --help)", NULL);
    if (!o->csv) return fail("no data given (--csv FILE; see --help)", NULL);
    if (!o->eval && !o->column) return fail("no series given (--column NAME|INDEX; see --help)", NULL);
    if (o->eval && (o->out || o->plot)) return fail("--eval prints a table; -o and --plot are for one forecast", NULL);
    if (o->eval && !samples_given) o->samples = 20;
    return 0;
}

/* ---- reading the CSV ------------------------------------------------------------- */

/* Trim spaces and one pair of surrounding double quotes, in place. */
static char *trim_cell(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t') s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) *--e = 0;
    if (e - s >= 2 && s[0] == '"' && e[-1] == '"') {
        e[-1] = 0;
        s++;
    }
    return s;
}

/* Split one line (NUL-terminated) at commas into at most max cells; returns the count, or
   max + 1 if there are more. */
static int split_line(char *line, char **cells, int max)
{
    int n = 0;
    for (;;) {
        char *comma = strchr(line, ',');
        if (comma) *comma = 0;
        if (n < max) cells[n] = trim_cell(line);
        n++;
        if (!comma) break;
        line = comma + 1;
    }
    return n > max ? max + 1 : n;
}

static int count_fields(const char *line)
{
    int n = 1;
    for (; *line; line++) n += *line == ',';
    return n;
}

/* A number cell: 1 finite number, 0 missing (empty, nan, na, null), -1 not a number. */
static int parse_cell(const char *s, double *out)
{
    static const char *const missing[] = {"", "nan", "NaN", "NAN", "na", "NA", "N/A", "null", "NULL", "-nan"};
    size_t i;
    char *end;
    double v;
    for (i = 0; i < sizeof missing / sizeof missing[0]; i++)
        if (!strcmp(s, missing[i])) return 0;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end) return -1;
    if (v != v) return 0;
    if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)) return -1;
    if (v - v != 0) return -1; /* inf */
    *out = v;
    return 1;
}

static void csv_free(csv_table *t)
{
    free(t->text);
    free(t->header);
    free(t->cells);
    free(t->line);
    memset(t, 0, sizeof *t);
}

/* Read path into t: a header line, then rows with as many fields; blank lines at the end
   are ignored, blank lines inside are an error (a gap). 0 with a message on failure. */
static int csv_load(const char *path, csv_table *t)
{
    size_t len, n_lines = 0, i;
    char *p, **lines = NULL;
    int r, ok = 0;
    memset(t, 0, sizeof *t);
    t->time_col = -1;
    if (!(t->text = read_file(path, &len))) return 0;
    if (strlen(t->text) != len) {
        fprintf(stderr, "artr-series: '%s' is not a text file (it contains a NUL byte)\n", path);
        goto done;
    }
    for (i = 0; i < len; i++) n_lines += t->text[i] == '\n';
    lines = (char **)malloc((n_lines + 1) * sizeof *lines);
    if (!lines) goto nomem;
    n_lines = 0;
    for (p = t->text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        lines[n_lines++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    while (n_lines > 0 && *trim_cell(lines[n_lines - 1]) == 0) n_lines--;
    if (n_lines == 0) {
        fprintf(stderr, "artr-series: '%s' is empty\n", path);
        goto done;
    }
    t->n_cols = count_fields(lines[0]);
    t->n_rows = (int)(n_lines - 1 > (size_t)(1 << 28) ? (size_t)(1 << 28) : n_lines - 1);
    t->header = (char **)malloc((size_t)t->n_cols * sizeof *t->header);
    t->cells = (char **)malloc(((size_t)t->n_rows * (size_t)t->n_cols + 1) * sizeof *t->cells);
    t->line = (int *)malloc(((size_t)t->n_rows + 1) * sizeof *t->line);
    if (!t->header || !t->cells || !t->line) goto nomem;
    split_line(lines[0], t->header, t->n_cols);
    for (r = 0; r < t->n_rows; r++) {
        char *ln = lines[r + 1];
        int got;
        if (*trim_cell(ln) == 0) {
            fprintf(stderr, "artr-series: %s:%d: empty line inside the data (a gap; remove or fill it)\n", path, r + 2);
            goto done;
        }
        got = split_line(ln, t->cells + (size_t)r * (size_t)t->n_cols, t->n_cols);
        if (got != t->n_cols) {
            fprintf(stderr, "artr-series: %s:%d: %s%d fields, the header has %d\n", path, r + 2,
                    got > t->n_cols ? "more than " : "", got > t->n_cols ? t->n_cols : got, t->n_cols);
            goto done;
        }
        t->line[r] = r + 2;
    }
    if (t->n_cols > 1 && t->n_rows > 0) {
        double v;
        if (parse_cell(t->cells[0], &v) < 0) t->time_col = 0;
    }
    ok = 1;
    goto done;
nomem:
    fprintf(stderr, "artr-series: out of memory reading '%s'\n", path);
done:
    free(lines);
    if (!ok) csv_free(t);
    return ok;
}

/* The column named name, or with that 0-based index; -1 with a message. */
static int csv_find_column(const csv_table *t, const char *path, const char *name)
{
    int c, idx;
    for (c = 0; c < t->n_cols; c++)
        if (!strcmp(t->header[c], name)) return c;
    if (parse_int(name, 0, 1 << 20, &idx) && idx < t->n_cols) return idx;
    fprintf(stderr, "artr-series: no column '%s' in '%s' (columns:", name, path);
    for (c = 0; c < t->n_cols; c++) fprintf(stderr, "%s '%s'", c ? "," : "", t->header[c]);
    fprintf(stderr, "; or an index 0..%d)\n", t->n_cols - 1);
    return -1;
}

/* Column c as numbers (a fresh array of n_rows); NULL with a message naming the cell. */
static double *csv_column(const csv_table *t, const char *path, int c)
{
    double *x;
    int r;
    if (c == t->time_col) {
        fprintf(stderr, "artr-series: column %d ('%s') holds timestamps, not values\n", c, t->header[c]);
        return NULL;
    }
    x = (double *)malloc(((size_t)t->n_rows + 1) * sizeof *x);
    if (!x) {
        fprintf(stderr, "artr-series: out of memory\n");
        return NULL;
    }
    for (r = 0; r < t->n_rows; r++) {
        const char *cell = t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c];
        int k = parse_cell(cell, &x[r]);
        if (k == 0) {
            fprintf(stderr, "artr-series: %s:%d: missing value '%s' in column '%s' (NaN gaps are not imputed; "
                    "fill or cut the gap first)\n", path, t->line[r], cell, t->header[c]);
            free(x);
            return NULL;
        }
        if (k < 0) {
            fprintf(stderr, "artr-series: %s:%d: '%s' in column '%s' is not a finite number\n", path, t->line[r],
                    cell, t->header[c]);
            free(x);
            return NULL;
        }
    }
    return x;
}

/* ---- timestamps: "YYYY-MM-DD[ T]HH:MM[:SS]" ----------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
static long days_from_civil(long y, long m, long d)
{
    long era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d)
{
    long era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Seconds since the epoch; 0 if s is not such a timestamp. */
static int parse_time(const char *s, long long *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    char sep;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) return 0;
    s += n;
    if (*s) {
        n = 0;
        if (sscanf(s, "%c%2d:%2d%n", &sep, &h, &mi, &n) != 3 || (sep != ' ' && sep != 'T')) return 0;
        s += n;
        if (*s == ':') {
            n = 0;
            if (sscanf(s, ":%2d%n", &sec, &n) != 1) return 0;
            s += n;
        }
        if (*s) return 0;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
        return 0;
    *out = (long long)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 1;
}

static void format_time(long long t, char *buf, size_t cap)
{
    long long days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), rem = t - days * 86400;
    long y, m, d;
    civil_from_days((long)days, &y, &m, &d);
    snprintf(buf, cap, "%04ld-%02ld-%02ld %02d:%02d:%02d", y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
             (int)(rem % 60));
}

/* Label of future step k (1-based) after data row `last`: its timestamp when column 0 holds
   evenly stepped timestamps, else the row number it would have (data rows count from 1). */
static void future_label(const csv_table *t, int last, int k, char *buf, size_t cap)
{
    long long a, b;
    if (t->time_col == 0 && last >= 1 && parse_time(t->cells[(size_t)last * (size_t)t->n_cols], &b) &&
        parse_time(t->cells[(size_t)(last - 1) * (size_t)t->n_cols], &a) && b > a) {
        format_time(b + (long long)k * (b - a), buf, cap);
        return;
    }
    snprintf(buf, cap, "%d", last + 1 + k);
}

/* ---- the model's tokenization ------------------------------------------------------- */

static int meta_int(const artr_model *m, const char *path, const char *key, int lo, int hi, int *out)
{
    int64_t v;
    artr_error err;
    if (artr_model_meta_int(m, key, &v, &err) != ARTR_OK) {
        fprintf(stderr, "artr-series: '%s' is not a series model: no integer metadata '%s' "
                "(see tools/train_series.py)\n", path, key);
        return 0;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "artr-series: '%s': %s = %lld, expected %d..%d\n", path, key, (long long)v, lo, hi);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int meta_float(const artr_model *m, const char *path, const char *key, double *out)
{
    artr_error err;
    if (artr_model_meta_float(m, key, out, &err) != ARTR_OK) {
        fprintf(stderr, "artr-series: '%s' is not a series model: no float metadata '%s' "
                "(see tools/train_series.py)\n", path, key);
        return 0;
    }
    if (!(*out - *out == 0)) {
        fprintf(stderr, "artr-series: '%s': %s is not finite\n", path, key);
        return 0;
    }
    return 1;
}

/* Read and check series.* against the model's vocabulary. */
static int series_vocab_read(const artr_model *m, const char *path, series_vocab *v)
{
    int n_vocab = artr_model_config(m)->n_vocab;
    if (!meta_int(m, path, "series.n_special", 0, 64, &v->n_special) ||
        !meta_int(m, path, "series.n_bins", 2, n_vocab - v->n_special, &v->n_bins) ||
        !meta_int(m, path, "series.pad_id", 0, n_vocab - 1, &v->pad_id) ||
        !meta_int(m, path, "series.eos_id", 0, n_vocab - 1, &v->eos_id) ||
        !meta_int(m, path, "series.context_length", 1, 1 << 20, &v->context_length) ||
        !meta_int(m, path, "series.prediction_length", 1, 1 << 20, &v->prediction_length) ||
        !meta_float(m, path, "series.low", &v->low) || !meta_float(m, path, "series.high", &v->high))
        return 0;
    if (!(v->low < v->high)) {
        fprintf(stderr, "artr-series: '%s': series.low %g is not below series.high %g\n", path, v->low, v->high);
        return 0;
    }
    return 1;
}

static double bin_width(const series_vocab *v)
{
    return (v->high - v->low) / (double)(v->n_bins - 1);
}

/* Chronos' mean scaling: mean |x| over the context, 1 if it is 0. */
static double series_scale(const double *x, int n)
{
    double s = 0;
    int i;
    for (i = 0; i < n; i++) s += fabs(x[i]);
    s /= (double)(n > 0 ? n : 1);
    return s > 0 ? s : 1.0;
}

/* The token of value x under scale s: nearest bin centre, clipped to the range. */
static int32_t series_token(const series_vocab *v, double x, double s)
{
    double b = floor((x / s - v->low) / bin_width(v) + 0.5);
    if (!(b >= 0)) b = 0; /* NaN too: callers reject it earlier */
    if (b > v->n_bins - 1) b = v->n_bins - 1;
    return (int32_t)(v->n_special + (int)b);
}

/* A value token's bin centre times s; special tokens (never sampled) decode to 0. */
static double series_value(const series_vocab *v, int32_t tok, double s)
{
    int b = tok - v->n_special;
    if (b < 0 || b >= v->n_bins) return 0;
    return (v->low + (double)b * bin_width(v)) * s;
}

/* ---- sampling trajectories --------------------------------------------------------- */

static void sampler_set_free(sampler_set *ss)
{
    int i;
    artr_ctx_free(ss->base);
    for (i = 0; ss->paths && i < ss->n_paths; i++) artr_ctx_free(ss->paths[i]);
    free(ss->paths);
    memset(ss, 0, sizeof *ss);
}

/* Contexts for forecasts of up to n_ctx positions with n_paths trajectories. */
static int sampler_set_init(sampler_set *ss, const artr_model *m, const series_vocab *v, int n_ctx, int n_paths,
                            int n_threads)
{
    artr_ctx_params cp;
    artr_error err;
    int i;
    memset(ss, 0, sizeof *ss);
    ss->m = m;
    ss->v = *v;
    ss->n_ctx = n_ctx;
    ss->n_batch = n_ctx < 64 ? n_ctx : 64;
    ss->n_paths = n_paths;
    for (i = 0; i < v->n_special && ss->n_banned < 8; i++) ss->banned[ss->n_banned++] = i;
    if (v->pad_id >= v->n_special && ss->n_banned < 8) ss->banned[ss->n_banned++] = v->pad_id;
    if (v->eos_id >= v->n_special && ss->n_banned < 8) ss->banned[ss->n_banned++] = v->eos_id;
    memset(&cp, 0, sizeof cp);
    cp.n_ctx = n_ctx;
    cp.n_batch = ss->n_batch;
    cp.n_threads = n_threads;
    ss->paths = (artr_ctx **)calloc((size_t)n_paths, sizeof *ss->paths);
    if (!ss->paths) {
        fprintf(stderr, "artr-series: out of memory\n");
        return 0;
    }
    if (artr_ctx_create(&ss->base, m, &cp, &err) != ARTR_OK) goto fail;
    cp.n_threads = 1; /* trajectories run side by side, one thread each */
    for (i = 0; i < n_paths; i++)
        if (artr_ctx_create(&ss->paths[i], m, &cp, &err) != ARTR_OK) goto fail;
    return 1;
fail:
    fprintf(stderr, "artr-series: %s\n", err.msg);
    sampler_set_free(ss);
    return 0;
}

/* SplitMix64 of a seed and a stream number: independent sampler states. */
static uint64_t mix_seed(uint64_t seed, uint64_t stream)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* One trajectory of h values from a copy of the prefilled base context. */
static artr_status sample_path(const sampler_set *ss, int i, const artr_sampler *proto, double scale, int h,
                               float *out, artr_error *err)
{
    artr_sampler s = *proto;
    artr_ctx *c = ss->paths[i];
    int k;
    artr_status st = artr_ctx_copy(c, ss->base, err);
    for (k = 0; k < h && st == ARTR_OK; k++) {
        int32_t tok;
        st = artr_sample(c, &s, -1, &tok, err);
        if (st != ARTR_OK) break;
        out[k] = (float)series_value(&ss->v, tok, scale);
        if (k + 1 < h) st = artr_forward(c, &tok, 1, err);
    }
    return st;
}

/* Sample ss->n_paths trajectories of f->horizon values after the context x[0..n): prefill
   once, copy, sample each path with its own seeded sampler (in parallel under OpenMP; the
   result does not depend on the thread count). */
static int sample_forecast(sampler_set *ss, const options *o, const double *x, int n, uint64_t seed, forecast *f)
{
    artr_error err;
    artr_sampler proto;
    double scale = series_scale(x, n);
    int i, bad = -1;
    int32_t chunk[64];
    artr_status *st;
    artr_error *errs;
    if (scale - scale != 0) { /* the sum of |x| overflowed (values near +-1e308) */
        fprintf(stderr, "artr-series: the context's mean |x| overflows (the values are too large to scale); "
                        "scale the column down\n");
        return 0;
    }
    st = (artr_status *)malloc((size_t)ss->n_paths * sizeof *st);
    errs = (artr_error *)malloc((size_t)ss->n_paths * sizeof *errs);
    if (!st || !errs) {
        free(st);
        free(errs);
        fprintf(stderr, "artr-series: out of memory\n");
        return 0;
    }
    artr_ctx_truncate(ss->base, 0, NULL);
    for (i = 0; i < n; i += ss->n_batch) {
        int k, m = n - i < ss->n_batch ? n - i : ss->n_batch;
        for (k = 0; k < m; k++) chunk[k] = series_token(&ss->v, x[i + k], scale);
        if (artr_forward(ss->base, chunk, m, &err) != ARTR_OK) {
            fprintf(stderr, "artr-series: %s\n", err.msg);
            free(st);
            free(errs);
            return 0;
        }
    }
    memset(&proto, 0, sizeof proto);
    proto.temperature = o->temperature;
    proto.top_k = o->top_k;
    proto.banned = ss->banned;
    proto.n_banned = ss->n_banned;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic) num_threads(o->n_threads > 0 ? o->n_threads : omp_get_max_threads())
#endif
    for (i = 0; i < ss->n_paths; i++) {
        artr_sampler s = proto;
        s.rng = mix_seed(seed, (uint64_t)i);
        st[i] = sample_path(ss, i, &s, scale, f->horizon, f->paths + (size_t)i * (size_t)f->horizon, &errs[i]);
    }
    for (i = 0; i < ss->n_paths && bad < 0; i++)
        if (st[i] != ARTR_OK) bad = i;
    if (bad >= 0) fprintf(stderr, "artr-series: trajectory %d: %s\n", bad, errs[bad].msg);
    free(st);
    free(errs);
    return bad < 0;
}

/* Quantile q of sorted v[0..n) with linear interpolation (Hyndman-Fan type 7). */
static double quantile_sorted(const double *v, int n, double q)
{
    double pos = q * (double)(n - 1);
    int lo = (int)floor(pos);
    if (lo >= n - 1) return v[n - 1];
    if (lo < 0) return v[0];
    return v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]);
}

/* Per step: mean, the requested quantiles and the median over the paths. */
static int summarize(forecast *f, const double *qs, int n_q)
{
    double *col = (double *)malloc((size_t)f->n_paths * sizeof *col);
    int h, i, j;
    if (!col) {
        fprintf(stderr, "artr-series: out of memory\n");
        return 0;
    }
    for (h = 0; h < f->horizon; h++) {
        double sum = 0;
        for (i = 0; i < f->n_paths; i++) {
            col[i] = f->paths[(size_t)i * (size_t)f->horizon + (size_t)h];
            if (col[i] - col[i] != 0) { /* inf or NaN: a bin centre times the scale overflowed */
                fprintf(stderr, "artr-series: the forecast is not finite at step %d (the values are too large for a "
                                "float forecast); scale the column down\n", h + 1);
                free(col);
                return 0;
            }
            sum += col[i];
        }
        qsort(col, (size_t)f->n_paths, sizeof *col, cmp_double);
        f->mean[h] = sum / (double)f->n_paths;
        f->median[h] = quantile_sorted(col, f->n_paths, 0.5);
        for (j = 0; j < n_q; j++) f->q[(size_t)j * (size_t)f->horizon + (size_t)h] = quantile_sorted(col, f->n_paths, qs[j]);
    }
    free(col);
    return 1;
}

static void forecast_free(forecast *f)
{
    free(f->paths);
    free(f->mean);
    free(f->q);
    free(f->median);
    memset(f, 0, sizeof *f);
}

static int forecast_init(forecast *f, int horizon, int n_paths, int n_q)
{
    memset(f, 0, sizeof *f);
    f->horizon = horizon;
    f->n_paths = n_paths;
    f->paths = (float *)malloc((size_t)n_paths * (size_t)horizon * sizeof *f->paths);
    f->mean = (double *)malloc((size_t)horizon * sizeof *f->mean);
    f->median = (double *)malloc((size_t)horizon * sizeof *f->median);
    f->q = (double *)malloc((size_t)(n_q > 0 ? n_q : 1) * (size_t)horizon * sizeof *f->q);
    if (f->paths && f->mean && f->median && f->q) return 1;
    forecast_free(f);
    fprintf(stderr, "artr-series: out of memory\n");
    return 0;
}

/* ---- writing the forecast ------------------------------------------------------------ */

static int write_csv(FILE *fp, const csv_table *t, const options *o, const forecast *f)
{
    int h, j;
    char label[64];
    fprintf(fp, "timestamp,mean");
    for (j = 0; j < o->n_quantiles; j++) fprintf(fp, ",q%g", o->quantiles[j]);
    fputc('\n', fp);
    for (h = 0; h < f->horizon; h++) {
        future_label(t, t->n_rows - 1, h + 1, label, sizeof label);
        fprintf(fp, "%s,%.6g", label, f->mean[h]);
        for (j = 0; j < o->n_quantiles; j++) fprintf(fp, ",%.6g", f->q[(size_t)j * (size_t)f->horizon + (size_t)h]);
        fputc('\n', fp);
    }
    return !ferror(fp);
}

/* Text for SVG: & < > " escaped. */
static void svg_text(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (*s == '&') fputs("&amp;", fp);
        else if (*s == '<') fputs("&lt;", fp);
        else if (*s == '>') fputs("&gt;", fp);
        else if (*s == '"') fputs("&quot;", fp);
        else fputc(*s, fp);
    }
}

typedef struct plot_frame {
    double x0, x1, y0, y1;  /* data range: step index and value */
    double left, top, width, height;
} plot_frame;

static double px(const plot_frame *p, double x)
{
    return p->left + (x - p->x0) / (p->x1 - p->x0) * p->width;
}

static double py(const plot_frame *p, double y)
{
    return p->top + (p->y1 - y) / (p->y1 - p->y0) * p->height;
}

/* The last n_hist values of history, then the forecast: median line, and the band between
   the lowest and highest requested quantile (when there are two or more). */
static int write_svg(const char *path, const csv_table *t, const options *o, const double *hist, int n_hist,
                     const forecast *f)
{
    FILE *fp = fopen(path, "w");
    plot_frame p;
    int i, lo_q = 0, hi_q = o->n_quantiles - 1, band = o->n_quantiles >= 2;
    char label[64];
    double lo = hist[0], hi = hist[0];
    if (!fp) {
        fprintf(stderr, "artr-series: cannot write '%s': %s\n", path, strerror(errno));
        return 0;
    }
    for (i = 0; i < n_hist; i++) {
        lo = hist[i] < lo ? hist[i] : lo;
        hi = hist[i] > hi ? hist[i] : hi;
    }
    for (i = 0; i < f->horizon; i++) {
        double a = band ? f->q[(size_t)lo_q * (size_t)f->horizon + (size_t)i] : f->median[i];
        double b = band ? f->q[(size_t)hi_q * (size_t)f->horizon + (size_t)i] : f->median[i];
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    if (hi - lo < 1e-12) {
        hi += 1;
        lo -= 1;
    }
    p.x0 = 0;
    p.x1 = n_hist + f->horizon - 1;
    if (p.x1 <= 0) p.x1 = 1;
    p.y0 = lo - 0.05 * (hi - lo);
    p.y1 = hi + 0.05 * (hi - lo);
    p.left = 70;
    p.top = 40;
    p.width = 700;
    p.height = 260;
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"340\" viewBox=\"0 0 800 340\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"800\" height=\"340\" fill=\"white\"/>\n");
    fprintf(fp, "<text x=\"70\" y=\"24\" font-size=\"14\">");
    svg_text(fp, strrchr(o->csv, '/') ? strrchr(o->csv, '/') + 1 : o->csv);
    fputs(": ", fp);
    svg_text(fp, o->column);
    fprintf(fp, " - %d-step forecast from %d values, %d samples</text>\n", f->horizon, o->context, f->n_paths);
    fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n", p.left,
            p.top, p.width, p.height);
    fprintf(fp, "<text x=\"64\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", py(&p, hi) + 4, hi);
    fprintf(fp, "<text x=\"64\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", py(&p, lo) + 4, lo);
    if (band) {
        fputs("<polygon fill=\"#1f77b4\" fill-opacity=\"0.25\" stroke=\"none\" points=\"", fp);
        for (i = 0; i < f->horizon; i++)
            fprintf(fp, "%.1f,%.1f ", px(&p, n_hist + i), py(&p, f->q[(size_t)hi_q * (size_t)f->horizon + (size_t)i]));
        for (i = f->horizon - 1; i >= 0; i--)
            fprintf(fp, "%.1f,%.1f ", px(&p, n_hist + i), py(&p, f->q[(size_t)lo_q * (size_t)f->horizon + (size_t)i]));
        fputs("\"/>\n", fp);
    }
    fputs("<polyline fill=\"none\" stroke=\"#222\" stroke-width=\"1.2\" points=\"", fp);
    for (i = 0; i < n_hist; i++) fprintf(fp, "%.1f,%.1f ", px(&p, i), py(&p, hist[i]));
    fputs("\"/>\n<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.8\" points=\"", fp);
    fprintf(fp, "%.1f,%.1f ", px(&p, n_hist - 1), py(&p, hist[n_hist - 1]));
    for (i = 0; i < f->horizon; i++) fprintf(fp, "%.1f,%.1f ", px(&p, n_hist + i), py(&p, f->median[i]));
    fputs("\"/>\n", fp);
    fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n",
            px(&p, n_hist - 0.5), p.top, px(&p, n_hist - 0.5), p.top + p.height);
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\">", p.left, p.top + p.height + 18);
    if (t->time_col == 0) svg_text(fp, t->cells[(size_t)(t->n_rows - n_hist) * (size_t)t->n_cols]);
    else fprintf(fp, "row %d", t->n_rows - n_hist + 1);
    fputs("</text>\n", fp);
    future_label(t, t->n_rows - 1, f->horizon, label, sizeof label);
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", p.left + p.width, p.top + p.height + 18);
    svg_text(fp, label);
    fputs("</text>\n", fp);
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\">history</text>\n", p.left + 8, p.top + 16);
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#1f77b4\">forecast: median", p.left + 68, p.top + 16);
    if (band) fprintf(fp, ", q%g..q%g interval", o->quantiles[lo_q], o->quantiles[hi_q]);
    fputs("</text>\n</svg>\n", fp);
    if (ferror(fp) | fclose(fp)) {
        fprintf(stderr, "artr-series: cannot write '%s'\n", path);
        return 0;
    }
    return 1;
}

/* ---- evaluation: metrics and baselines ------------------------------------------------ */

/* Pinball loss of prediction p for quantile q at truth y. */
static double pinball(double y, double p, double q)
{
    return y >= p ? q * (y - p) : (1 - q) * (p - y);
}

/* MASE's scale: mean |x_t - x_{t-m}| over the context (in-sample seasonal-naive error);
   0 when the context is shorter than m + 1 or exactly periodic. */
static double seasonal_error(const double *x, int n, int m)
{
    double s = 0;
    int i;
    if (n <= m) return 0;
    for (i = m; i < n; i++) s += fabs(x[i] - x[i - m]);
    return s / (double)(n - m);
}

/* Solve the symmetric positive definite system a (n x n) z = b by Cholesky, in place; 0 if
   a is not positive definite. */
static int cholesky_solve(double *a, double *b, int n)
{
    int i, j, k;
    for (j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0)) return 0;
        a[j * n + j] = sqrt(d);
        for (i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / a[j * n + j];
        }
    }
    for (i = 0; i < n; i++) { /* L y = b */
        double s = b[i];
        for (k = 0; k < i; k++) s -= a[i * n + k] * b[k];
        b[i] = s / a[i * n + i];
    }
    for (i = n - 1; i >= 0; i--) { /* L^T z = y */
        double s = b[i];
        for (k = i + 1; k < n; k++) s -= a[k * n + i] * b[k];
        b[i] = s / a[i * n + i];
    }
    return 1;
}

/* AR(p) with intercept by least squares on x[0..n): x_t = w[0] + sum_i w[i] x_{t-i}. The
   normal equations get a tiny ridge (1e-8 of their trace) so a flat series still solves. */
static int ar_fit(const double *x, int n, int p, double *w)
{
    int d = p + 1, t, i, j;
    double *a = (double *)calloc((size_t)d * (size_t)d, sizeof *a), tr = 0;
    double r[AR_ORDER + 1];
    if (!a || n <= 2 * p) {
        free(a);
        return 0;
    }
    memset(w, 0, (size_t)d * sizeof *w);
    for (t = p; t < n; t++) {
        r[0] = 1;
        for (i = 1; i <= p; i++) r[i] = x[t - i];
        for (i = 0; i < d; i++) {
            w[i] += r[i] * x[t];
            for (j = 0; j <= i; j++) a[i * d + j] += r[i] * r[j];
        }
    }
    for (i = 0; i < d; i++)
        for (j = 0; j < i; j++) a[j * d + i] = a[i * d + j];
    for (i = 0; i < d; i++) tr += a[i * d + i];
    for (i = 0; i < d; i++) a[i * d + i] += 1e-8 * tr / d;
    i = cholesky_solve(a, w, d);
    free(a);
    return i;
}

/* h steps of the fitted AR(p) after the context x[0..n) (n >= p), fed its own predictions. */
static void ar_forecast(const double *w, int p, const double *x, int n, int h, double *out)
{
    int k, i;
    for (k = 0; k < h; k++) {
        double y = w[0];
        for (i = 1; i <= p; i++) y += w[i] * (k - i >= 0 ? out[k - i] : x[n + k - i]);
        out[k] = y;
    }
}

/* Seasonal naive: the last season repeated. */
static void snaive_forecast(const double *x, int n, int m, int h, double *out)
{
    int k;
    for (k = 0; k < h; k++) out[k] = x[n - m + k % m];
}

/* Running sums of one method's errors: MASE per window, WQL pooled (Chronos' definition). */
typedef struct score {
    double mase_sum, pin_sum, abs_sum;
    long n_windows;
} score;

/* Add one window: point is the point forecast (the median for the model), q the
   EVAL_QUANTILES quantile rows (NULL: the point forecast stands for every quantile). */
static void score_add(score *sc, const double *y, int h, const double *point, const double *q, double mase_scale)
{
    int k, j;
    double ae = 0;
    for (k = 0; k < h; k++) {
        ae += fabs(y[k] - point[k]);
        sc->abs_sum += fabs(y[k]);
        for (j = 0; j < EVAL_QUANTILES; j++) {
            double qq = 0.1 * (j + 1);
            sc->pin_sum += pinball(y[k], q ? q[(size_t)j * (size_t)h + (size_t)k] : point[k], qq);
        }
    }
    sc->mase_sum += ae / h / mase_scale;
    sc->n_windows++;
}

static double score_mase(const score *sc)
{
    return sc->n_windows ? sc->mase_sum / (double)sc->n_windows : 0;
}

/* 2 * sum pinball / sum |y|, averaged over the quantiles. */
static double score_wql(const score *sc)
{
    return sc->abs_sum > 0 ? 2 * sc->pin_sum / sc->abs_sum / EVAL_QUANTILES : 0;
}

static void score_merge(score *dst, const score *src)
{
    dst->mase_sum += src->mase_sum;
    dst->pin_sum += src->pin_sum;
    dst->abs_sum += src->abs_sum;
    dst->n_windows += src->n_windows;
}

/* Rolling-origin evaluation of one column: origins from the test split's start every
   o->stride rows while origin + horizon fits in it; context = the o->context rows before. */
static int eval_column(sampler_set *ss, const options *o, const double *x, int col, score sc[3])
{
    int test0 = o->split[0] + o->split[1], test1 = test0 + o->split[2], h = o->horizon, origin, win = 0, j;
    double w[AR_ORDER + 1], qv[EVAL_QUANTILES], *point;
    forecast f;
    if (!ar_fit(x, o->split[0], AR_ORDER, w)) {
        fprintf(stderr, "artr-series: cannot fit AR(%d) on the %d train rows of column %d\n", AR_ORDER, o->split[0], col);
        return 0;
    }
    if (!forecast_init(&f, h, o->samples, EVAL_QUANTILES)) return 0;
    if (!(point = (double *)malloc(2 * (size_t)h * sizeof *point))) {
        forecast_free(&f);
        fprintf(stderr, "artr-series: out of memory\n");
        return 0;
    }
    for (j = 0; j < EVAL_QUANTILES; j++) qv[j] = 0.1 * (j + 1);
    for (origin = test0; origin + h <= test1; origin += o->stride, win++) {
        const double *ctx = x + origin - o->context, *y = x + origin;
        double scale = seasonal_error(ctx, o->context, SEASON);
        if (!(scale > 0)) continue; /* MASE undefined: a flat context */
        if (!sample_forecast(ss, o, ctx, o->context, mix_seed(o->seed, (uint64_t)col * 100000u + (uint64_t)win), &f) ||
            !summarize(&f, qv, EVAL_QUANTILES)) {
            forecast_free(&f);
            free(point);
            return 0;
        }
        score_add(&sc[0], y, h, f.median, f.q, scale);
        snaive_forecast(ctx, o->context, SEASON, h, point);
        score_add(&sc[1], y, h, point, NULL, scale);
        ar_forecast(w, AR_ORDER, ctx, o->context, h, point + h);
        score_add(&sc[2], y, h, point + h, NULL, scale);
    }
    forecast_free(&f);
    free(point);
    return 1;
}

static void print_score_row(const char *name, const score sc[3])
{
    printf("%-8s %7ld  %7.4f %7.4f %7.4f   %7.4f %7.4f %7.4f\n", name, sc[0].n_windows, score_mase(&sc[0]),
           score_mase(&sc[1]), score_mase(&sc[2]), score_wql(&sc[0]), score_wql(&sc[1]), score_wql(&sc[2]));
}

static int run_eval(const artr_model *m, const series_vocab *v, const csv_table *t, const options *o, int only_col)
{
    sampler_set ss;
    score total[3];
    int c, ok = 1, need = o->split[0] + o->split[1] + o->split[2];
    clock_t t0 = clock();
    time_t w0 = time(NULL);
    if (t->n_rows < need) {
        fprintf(stderr, "artr-series: --eval needs %d rows (--split %d,%d,%d); '%s' has %d\n", need, o->split[0],
                o->split[1], o->split[2], o->csv, t->n_rows);
        return 1;
    }
    if (o->context > o->split[0] + o->split[1] || o->context <= SEASON || o->context < AR_ORDER) {
        fprintf(stderr, "artr-series: --eval needs %d < --context <= %d (train + val rows); got %d\n",
                SEASON < AR_ORDER ? AR_ORDER - 1 : SEASON, o->split[0] + o->split[1], o->context);
        return 1;
    }
    if (o->split[2] < o->horizon) {
        fprintf(stderr, "artr-series: --eval: --horizon %d does not fit the test split (%d rows)\n",
                o->horizon, o->split[2]);
        return 1;
    }
    if (!sampler_set_init(&ss, m, v, o->context + o->horizon, o->samples, o->n_threads)) return 1;
    memset(total, 0, sizeof total);
    printf("rolling evaluation of %s: test rows [%d, %d), horizon %d, stride %d, context %d, %d samples, seed %llu\n",
           o->csv, o->split[0] + o->split[1], need, o->horizon, o->stride, o->context, o->samples,
           (unsigned long long)o->seed);
    printf("MASE (season %d; model: median) and WQL (quantiles 0.1..0.9; baselines: point forecast as every quantile)\n",
           SEASON);
    printf("%-8s %7s  %7s %7s %7s   %7s %7s %7s\n", "column", "windows", "model", "snaive", "AR(48)", "model",
           "snaive", "AR(48)");
    for (c = 0; c < t->n_cols && ok; c++) {
        score sc[3];
        double *x;
        double dummy;
        if (c == t->time_col || (only_col >= 0 && c != only_col)) continue;
        if (only_col < 0 && parse_cell(t->cells[(size_t)c], &dummy) < 0) continue; /* a text column */
        if (!(x = csv_column(t, o->csv, c))) {
            ok = 0;
            break;
        }
        memset(sc, 0, sizeof sc);
        ok = eval_column(&ss, o, x, c, sc);
        free(x);
        if (ok) {
            print_score_row(t->header[c], sc);
            fflush(stdout);
            score_merge(&total[0], &sc[0]);
            score_merge(&total[1], &sc[1]);
            score_merge(&total[2], &sc[2]);
        }
    }
    if (ok) {
        print_score_row("all", total);
        fflush(stdout);
        fprintf(stderr, "eval: %.0f s wall, %.0f s CPU\n", difftime(time(NULL), w0),
                (double)(clock() - t0) / CLOCKS_PER_SEC);
    }
    sampler_set_free(&ss);
    return ok ? 0 : 1;
}

/* ---- one forecast ------------------------------------------------------------------ */

static int run_forecast(const artr_model *m, const series_vocab *v, const csv_table *t, options *o, int col)
{
    sampler_set ss;
    forecast f;
    double *x = csv_column(t, o->csv, col);
    int rc = 1, n = t->n_rows, written, clipped = 0;
    FILE *fp = stdout;
    if (!x) return 1;
    if (n < MIN_CONTEXT) {
        fprintf(stderr, "artr-series: column '%s' has %d values; at least %d are needed\n", t->header[col], n, MIN_CONTEXT);
        free(x);
        return 1;
    }
    if (o->context > n) { /* said after a successful run, so an error stays one line */
        clipped = o->context;
        o->context = n;
    }
    memset(&ss, 0, sizeof ss);
    memset(&f, 0, sizeof f);
    if (!sampler_set_init(&ss, m, v, o->context + o->horizon, o->samples, o->n_threads) ||
        !forecast_init(&f, o->horizon, o->samples, o->n_quantiles))
        goto done;
    if (!sample_forecast(&ss, o, x + n - o->context, o->context, o->seed, &f) ||
        !summarize(&f, o->quantiles, o->n_quantiles))
        goto done;
    if (o->out && !(fp = fopen(o->out, "w"))) {
        fprintf(stderr, "artr-series: cannot write '%s': %s\n", o->out, strerror(errno));
        goto done;
    }
    written = write_csv(fp, t, o, &f);
    if (fp != stdout && fclose(fp) != 0) written = 0;
    if (!written) {
        fprintf(stderr, "artr-series: cannot write '%s'\n", o->out ? o->out : "stdout");
        goto done;
    }
    if (o->plot) {
        int n_hist = o->context < 4 * o->horizon ? o->context : 4 * o->horizon;
        if (n_hist < 48) n_hist = o->context < 48 ? o->context : 48;
        if (!write_svg(o->plot, t, o, x + n - n_hist, n_hist, &f)) goto done;
    }
    if (clipped) fprintf(stderr, "artr-series: note: --context %d, but the series has %d values; used them all\n", clipped, n);
    rc = 0;
done:
    forecast_free(&f);
    sampler_set_free(&ss);
    free(x);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    artr_model *m = NULL;
    artr_error err;
    series_vocab v;
    csv_table t;
    int r, col = -1, rc = 1, n_ctx_train;

    if ((r = parse_args(argc, argv, &o)) != 0) return r == 1 ? 0 : 2;
    if (artr_model_load_file(&m, o.model, NULL, &err) != ARTR_OK) {
        fprintf(stderr, "artr-series: cannot load '%s': %s\n", o.model, err.msg);
        return 1;
    }
    memset(&t, 0, sizeof t);
    if (!series_vocab_read(m, o.model, &v)) goto done;
    n_ctx_train = artr_model_config(m)->n_ctx_train;
    if (!o.context) o.context = v.context_length;
    if (o.context + o.horizon > n_ctx_train) {
        fprintf(stderr, "artr-series: --context %d + --horizon %d is more than the model's %d positions\n", o.context,
                o.horizon, n_ctx_train);
        goto done;
    }
    if (!csv_load(o.csv, &t)) goto done;
    if (t.n_rows == 0) {
        fprintf(stderr, "artr-series: '%s' has a header but no data rows\n", o.csv);
        goto done;
    }
    if (o.column && (col = csv_find_column(&t, o.csv, o.column)) < 0) goto done;
    rc = o.eval ? run_eval(m, &v, &t, &o, col) : run_forecast(m, &v, &t, &o, col);
done:
    csv_free(&t);
    artr_model_free(m);
    return rc;
}
