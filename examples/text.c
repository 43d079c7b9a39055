/* artr-text: generate text with a GGUF or llama2.c model. Public API only.

   artr-text -m models/shakespeare.gguf -p "ROMEO:" -n 200
   artr-text -m model.gguf --draft draft.gguf --temp 0 -p "..."   speculative decoding
   artr-text -m model.gguf --lookup -f document.txt               prompt lookup decoding
   artr-text -m model.gguf --lookahead -p "..."                   lookahead decoding (no draft)
   artr-text -m model.gguf --perplexity text.txt                  perplexity of a file
   artr-text -m instruct.gguf -cnv -sys "Be brief."               chat with the model's template
   artr-text --help                                               every flag */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLI_PROG "artr-text"
#include "cli.h"

/* The most guesses one decoding step makes: artr_ctx_params.n_draft's default,
   min(16, n_batch - 1). --draft-n, --jacobi and --spec-jacobi above it are refused. */
#define MAX_GUESSES 16

typedef struct options {
    const char *model, *prompt, *prompt_file, *draft, *vocab, *perplexity;
    const char *system_prompt, *chat_template;
    int conversation, n_predict_given;
    int n_predict, n_ctx, n_threads, draft_n, self_spec, jacobi, spec_jacobi, sink, kv_type;
    int lookup, lookup_ngram, draft_min, policy_fixed, draft_tree;
    int lookahead, la_window, la_ngram, la_verify; /* 0: artr_step_lookahead's defaults */
    float draft_p_min;
    int interactive, ignore_eos, seed_given;
    uint64_t seed;
    artr_sampler s;
} options;

static volatile sig_atomic_t g_stop; /* Ctrl-C: finish the current step, print stats */

static void on_sigint(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *f)
{
    fputs("usage: artr-text -m MODEL [options]\n"
          "  -m, --model FILE         GGUF model or llama2.c checkpoint (required)\n"
          "  -z, --vocab FILE         llama2.c tokenizer.bin for a llama2.c checkpoint\n"
          "  -p, --prompt TEXT        prompt (default: empty, i.e. BOS only)\n"
          "  -f, --file FILE          read the prompt from a file\n"
          "  -n, --n-predict N        tokens to generate (default 128; -1 = until end of generation or Ctrl-C)\n"
          "  -c, --ctx-size N         context length (default: the model's, at most 4096)\n"
          "  -t, --threads N          threads (default: OpenMP's)\n"
          "  -s, --seed N             sampling seed (default: from the clock)\n"
          "      --temp T             temperature (default 0.8; 0 = greedy)\n"
          "      --top-k K            top-k (default 40; 0 = off)\n"
          "      --top-p P            top-p (default 0.95; 1 = off)\n"
          "      --min-p P            min-p (default 0.05; 0 = off)\n"
          "      --repeat-penalty R   repetition penalty (default 1.0 = off)\n"
          "      --repeat-last-n N    tokens the penalty looks back (default 64; -1 = all)\n"
          "      --draft FILE         speculative decoding with this draft model\n"
          "      --draft-n K          tokens the draft proposes per step (default 4, --lookup 8; at most 16)\n"
          "      --draft-max K        the same (llama.cpp's name)\n"
          "      --draft-min K        verify no draft shorter than K: a plain step instead (default 0)\n"
          "      --draft-p-min P      --draft/--self-spec: stop drafting where the draft's own top\n"
          "                           probability is below P (default 0 = off)\n"
          "      --draft-tree B       --draft/--self-spec: token trees: also verify the draft's next\n"
          "                           B - 1 likeliest tokens beside each draft token (2..8; default 1)\n"
          "      --draft-policy adaptive|fixed\n"
          "                           adaptive (default): each step picks the draft length (or the\n"
          "                           --jacobi/--spec-jacobi window) from the measured cost of a\n"
          "                           verification vs a decode and the acceptance so far, or decodes\n"
          "                           plainly when guessing would not pay; fixed: always verify\n"
          "                           --draft-max guesses (the whole window)\n"
          "      --lookup             prompt lookup decoding: guesses from earlier text (no draft model)\n"
          "      --lookup-ngram N     longest n-gram --lookup matches (default 3, at most 16)\n"
          "      --lookahead          lookahead decoding: Jacobi iterations feed an n-gram pool (with\n"
          "                           the text's own n-grams); candidates verified as a tree\n"
          "      --lookahead-window W columns of the lookahead window (default 4)\n"
          "      --lookahead-ngram N  n-gram size (default 3, 2 to 8)\n"
          "      --lookahead-verify G n-grams verified per step (default 4)\n"
          "      --self-spec L        self-speculative decoding: the first L layers draft\n"
          "      --jacobi W           Jacobi decoding with a window of W (needs --temp 0)\n"
          "      --spec-jacobi W      speculative Jacobi decoding with a window of W (W at most 16)\n"
          "      --kv-type f32|f16    KV cache element type (f16 halves its memory; default f32)\n"
          "      --sink N             bounded cache for endless generation: keep N sink tokens\n"
          "      --ignore-eos         do not stop at end-of-generation tokens (EOS, end of turn)\n"
          "      --perplexity FILE    print the perplexity of FILE (windows of -c tokens) and exit\n"
          "  -i, --interactive        after generating, read a line and continue\n"
          "  -cnv, --conversation     chat: each line is a user turn in the model's chat template;\n"
          "                           replies stop at the end of the turn (-n default -1),\n"
          "                           Ctrl-C ends a reply, /exit or end of input the chat\n"
          "  -sys, --system-prompt T  chat: the system message\n"
          "      --chat-template NAME chat: chatml, llama3, gemma, phi3, phi4, zephyr, mistral-v1,\n"
          "                           mistral-v3, mistral-v3-tekken, mistral-v7 (default: the model's)\n"
          "  -h, --help               this text\n",
          f);
}

static int known_value_option(const char *a)
{
    static const char *const names[] = {"-m", "--model", "-z", "--vocab", "-p", "--prompt", "-f", "--file",
                                        "--draft", "--perplexity", "-n", "--n-predict", "-c", "--ctx-size",
                                        "-t", "--threads", "--draft-n", "--draft-max", "--draft-min", "--draft-p-min",
                                        "--draft-policy", "--draft-tree", "--lookup-ngram", "--lookahead-window", "--lookahead-ngram",
                                        "--lookahead-verify", "--self-spec", "--jacobi",
                                        "--spec-jacobi", "--sink", "--kv-type", "--repeat-last-n", "--temp", "--top-k",
                                        "--top-p", "--min-p", "--repeat-penalty", "-s", "--seed", "-sys",
                                        "--system-prompt", "--chat-template"};
    return in_list(a, names, sizeof names / sizeof names[0]);
}

/* 0 ok, 1 --help shown, 2 bad usage (message printed). */
static int parse_args(int argc, char **argv, options *o)
{
    int i;
    memset(o, 0, sizeof *o);
    o->n_predict = 128;
    o->draft_n = 0; /* 4, or 8 for --lookup */
    o->lookup_ngram = 3;
    o->s.temperature = 0.8f;
    o->s.top_k = 40;
    o->s.top_p = 0.95f;
    o->s.min_p = 0.05f;
    o->s.repeat_penalty = 1.0f;
    o->s.repeat_last_n = 64;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1, takes = 1;
        if (is(a, "-h", "--help")) {
            usage(stdout);
            return 1;
        } else if (is(a, "-i", "--interactive")) {
            o->interactive = 1;
            takes = 0;
        } else if (is(a, "--lookup", NULL)) {
            o->lookup = 1;
            takes = 0;
        } else if (is(a, "--lookahead", NULL)) {
            o->lookahead = 1;
            takes = 0;
        } else if (is(a, "--ignore-eos", NULL)) {
            o->ignore_eos = 1;
            takes = 0;
        } else if (is(a, "-cnv", "--conversation")) {
            o->conversation = 1;
            takes = 0;
        } else if (!known_value_option(a)) {
            fprintf(stderr, "artr-text: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!v) {
            fprintf(stderr, "artr-text: missing value after %s (see --help)\n", a);
            return 2;
        } else if (is(a, "-m", "--model")) o->model = v;
        else if (is(a, "-z", "--vocab")) o->vocab = v;
        else if (is(a, "-p", "--prompt")) o->prompt = v;
        else if (is(a, "-f", "--file")) o->prompt_file = v;
        else if (is(a, "--draft", NULL)) o->draft = v;
        else if (is(a, "--perplexity", NULL)) o->perplexity = v;
        else if (is(a, "-sys", "--system-prompt")) o->system_prompt = v;
        else if (is(a, "--chat-template", NULL)) o->chat_template = v;
        else if (is(a, "-n", "--n-predict")) {
            ok = parse_int(v, -1, 1 << 30, &o->n_predict);
            o->n_predict_given = 1;
        }
        else if (is(a, "-c", "--ctx-size")) ok = parse_int(v, 8, 1 << 20, &o->n_ctx);
        else if (is(a, "-t", "--threads")) ok = parse_int(v, 1, 512, &o->n_threads);
        else if (is(a, "--draft-n", "--draft-max")) ok = parse_int(v, 1, 64, &o->draft_n);
        else if (is(a, "--draft-min", NULL)) ok = parse_int(v, 0, 64, &o->draft_min);
        else if (is(a, "--draft-p-min", NULL)) ok = parse_float(v, 0, 1, &o->draft_p_min);
        else if (is(a, "--draft-tree", NULL)) ok = parse_int(v, 1, 8, &o->draft_tree);
        else if (is(a, "--lookup-ngram", NULL)) ok = parse_int(v, 1, 16, &o->lookup_ngram);
        else if (is(a, "--lookahead-window", NULL)) ok = parse_int(v, 1, 32, &o->la_window);
        else if (is(a, "--lookahead-ngram", NULL)) ok = parse_int(v, 2, 8, &o->la_ngram);
        else if (is(a, "--lookahead-verify", NULL)) ok = parse_int(v, 1, 32, &o->la_verify);
        else if (is(a, "--draft-policy", NULL)) {
            ok = !strcmp(v, "adaptive") || !strcmp(v, "fixed");
            o->policy_fixed = !strcmp(v, "fixed");
        }
        else if (is(a, "--self-spec", NULL)) ok = parse_int(v, 1, 4096, &o->self_spec);
        else if (is(a, "--jacobi", NULL)) ok = parse_int(v, 1, 64, &o->jacobi);
        else if (is(a, "--spec-jacobi", NULL)) ok = parse_int(v, 1, 64, &o->spec_jacobi);
        else if (is(a, "--sink", NULL)) ok = parse_int(v, 1, 1 << 20, &o->sink);
        else if (is(a, "--kv-type", NULL)) {
            ok = !strcmp(v, "f32") || !strcmp(v, "f16");
            o->kv_type = !strcmp(v, "f16") ? ARTR_TYPE_F16 : ARTR_TYPE_F32;
        }
        else if (is(a, "--repeat-last-n", NULL)) ok = parse_int(v, -1, 1 << 20, &o->s.repeat_last_n);
        else if (is(a, "--temp", NULL)) ok = parse_float(v, 0, 100, &o->s.temperature);
        else if (is(a, "--top-k", NULL)) ok = parse_int(v, 0, 1 << 30, &o->s.top_k);
        else if (is(a, "--top-p", NULL)) ok = parse_float(v, 0, 1, &o->s.top_p);
        else if (is(a, "--min-p", NULL)) ok = parse_float(v, 0, 1, &o->s.min_p);
        else if (is(a, "--repeat-penalty", NULL)) ok = parse_float(v, 0, 100, &o->s.repeat_penalty);
        else if (is(a, "-s", "--seed")) {
            ok = parse_u64(v, &o->seed);
            o->seed_given = 1;
        } else {
            fprintf(stderr, "artr-text: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "artr-text: bad value '%s' for %s (see --help)\n", v, a);
            return 2;
        }
        i += takes;
    }
    if (!o->model) return fail("no model given (-m FILE; see --help)", NULL);
    if (o->prompt && o->prompt_file) return fail("give -p or -f, not both", NULL);
    if ((o->draft != NULL) + (o->self_spec > 0) + (o->jacobi > 0) + (o->spec_jacobi > 0) + o->lookup + o->lookahead > 1)
        return fail("choose one of --draft, --self-spec, --jacobi, --spec-jacobi, --lookup, --lookahead", NULL);
    if (!o->lookahead && (o->la_window || o->la_ngram || o->la_verify))
        return fail("--lookahead-window, --lookahead-ngram and --lookahead-verify go with --lookahead", NULL);
    if (!o->draft_n) o->draft_n = o->lookup ? 8 : 4;
    if (o->draft_min > o->draft_n) {
        fprintf(stderr, "artr-text: --draft-min %d is more than --draft-max %d\n", o->draft_min, o->draft_n);
        return 2;
    }
    if (o->jacobi && o->s.temperature > 0)
        return fail("--jacobi is greedy: add --temp 0 (or sample with --spec-jacobi)", NULL);
    {
        static const char *const flag[3] = {"--draft-n", "--jacobi", "--spec-jacobi"};
        int k, val[3];
        val[0] = o->draft_n;
        val[1] = o->jacobi;
        val[2] = o->spec_jacobi;
        for (k = 0; k < 3; k++)
            if (val[k] > MAX_GUESSES) {
                fprintf(stderr, "artr-text: %s %d is more than %d, the most guesses one step makes\n", flag[k], val[k],
                        MAX_GUESSES);
                return 2;
            }
    }
    if ((o->system_prompt || o->chat_template) && !o->conversation)
        return fail("-sys and --chat-template are for chat mode: add -cnv", NULL);
    if (o->conversation && (o->prompt_file || o->perplexity || o->interactive))
        return fail("-cnv reads its turns from the terminal: leave out -f, -i and --perplexity", NULL);
    return 0;
}

/* Tokenize into a fresh array; NULL with a message on failure. */
static int32_t *tokenize(const artr_model *m, const char *text, size_t len, int flags, int *n)
{
    artr_error err;
    int32_t *ids;
    artr_status st = artr_tokenize(m, text, len, flags, NULL, 0, n, &err);
    if (st != ARTR_OK && st != ARTR_E_SPACE) {
        fprintf(stderr, "artr-text: cannot tokenize: %s\n", err.msg);
        return NULL;
    }
    ids = (int32_t *)malloc((size_t)(*n > 0 ? *n : 1) * sizeof(int32_t));
    if (!ids || artr_tokenize(m, text, len, flags, ids, *n, n, &err) != ARTR_OK) {
        fprintf(stderr, "artr-text: cannot tokenize: %s\n", ids ? err.msg : "out of memory");
        free(ids);
        return NULL;
    }
    return ids;
}

/* Feed ids in chunks of at most n_batch. */
static int feed(artr_ctx *c, const int32_t *ids, int n, int n_batch, artr_error *err)
{
    int i;
    for (i = 0; i < n; i += n_batch) {
        int k = n - i < n_batch ? n - i : n_batch;
        if (artr_forward(c, ids + i, k, err) != ARTR_OK) return 0;
    }
    return 1;
}

/* Append p[0..n) to *keep (len of cap bytes, grown with realloc); 0 when out of memory. */
static int keep_bytes(char **keep, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n > *cap) {
        size_t c = 2 * (*len + n) + 256;
        char *k = (char *)realloc(*keep, c);
        if (!k) return 0;
        *keep = k;
        *cap = c;
    }
    memcpy(*keep + *len, p, n);
    *len += n;
    return 1;
}

/* Stream one token's text, and keep it (keep_bytes) when keep is given; returns 0 on a
   write error or out of memory. */
static int emit_kept(const artr_model *m, artr_detok *d, int32_t id, char **keep, size_t *len, size_t *cap)
{
    char buf[512];
    size_t n = 0;
    if (artr_detok_push(m, d, id, buf, sizeof buf, &n, NULL) != ARTR_OK) return 1;
    if (n && fwrite(buf, 1, n, stdout) != n) return 0;
    fflush(stdout);
    return !keep || !n || keep_bytes(keep, len, cap, buf, n);
}

static int emit(const artr_model *m, artr_detok *d, int32_t id)
{
    return emit_kept(m, d, id, NULL, NULL, NULL);
}

static int run_perplexity(const artr_model *m, const options *o, int n_ctx)
{
    size_t len;
    char *text = read_file(o->perplexity, &len);
    int32_t *ids;
    int n, w, n_windows, batch = 64;
    double nll = 0;
    long count = 0;
    artr_ctx_params cp;
    artr_ctx *c = NULL;
    artr_error err;
    if (!text) return 1;
    ids = tokenize(m, text, len, 0, &n);
    free(text);
    if (!ids) return 1;
    n_windows = n / n_ctx;
    if (n_windows < 1) {
        fprintf(stderr, "artr-text: '%s' has %d tokens, fewer than one window of %d (-c)\n", o->perplexity, n, n_ctx);
        free(ids);
        return 1;
    }
    memset(&cp, 0, sizeof cp);
    cp.n_ctx = n_ctx;
    cp.n_batch = batch < n_ctx ? batch : n_ctx;
    cp.n_threads = o->n_threads;
    cp.kv_type = o->kv_type;
    if (artr_ctx_create(&c, m, &cp, &err) != ARTR_OK) {
        fprintf(stderr, "artr-text: %s\n", err.msg);
        free(ids);
        return 1;
    }
    /* non-overlapping windows; every token but a window's first is predicted */
    for (w = 0; w < n_windows && !g_stop; w++) {
        const int32_t *win = ids + (size_t)w * (size_t)n_ctx;
        int i;
        artr_ctx_truncate(c, 0, NULL);
        for (i = 0; i < n_ctx; i += cp.n_batch) {
            artr_batch b;
            int k = n_ctx - i < cp.n_batch ? n_ctx - i : cp.n_batch, r;
            memset(&b, 0, sizeof b);
            b.tokens = win + i;
            b.n = k;
            b.logits = ARTR_LOGITS_ALL;
            if (artr_forward_batch(c, &b, &err) != ARTR_OK) {
                fprintf(stderr, "artr-text: %s\n", err.msg);
                break;
            }
            for (r = 0; r < k && i + r + 1 < n_ctx; r++) {
                const float *lg = artr_logits(c, r);
                int32_t next = win[i + r + 1];
                double mx = lg[0], sum = 0;
                int v, nv = artr_model_config(m)->n_vocab;
                for (v = 1; v < nv; v++)
                    if (lg[v] > mx) mx = lg[v];
                for (v = 0; v < nv; v++) sum += exp((double)lg[v] - mx);
                nll += log(sum) + mx - lg[next];
                count++;
            }
        }
    }
    printf("perplexity of %s: %.4f (mean loss %.6f nats/token over %ld predictions, %d windows of %d tokens)\n",
           o->perplexity, exp(nll / (double)count), nll / (double)count, count, w, n_ctx);
    artr_ctx_free(c);
    free(ids);
    return 0;
}

/* What one generation run holds: the model (and a draft's), their contexts, the
   detokenizer; session_free releases whatever was made. */
typedef struct session {
    artr_model *m, *dm;
    artr_ctx *c, *d;
    const artr_vocab_info *vi;
    artr_ctx_params cp;
    artr_detok detok;
    int n_ctx;
    int reply_on;                 /* chat: keep the generated text in reply */
    char *reply;                  /* (reply_len of reply_cap bytes) */
    size_t reply_len, reply_cap;
    int32_t ended;                /* the end-of-generation id that stopped the reply, or -1 */
    int full;                     /* generation stopped at a full context */
} session;

static void session_free(session *s)
{
    free(s->reply);
    artr_ctx_free(s->d);
    artr_ctx_free(s->c);
    artr_model_free(s->dm);
    artr_model_free(s->m);
}

/* Load the model; it must have a tokenizer. Sets the context length. 0 after a message. */
static int load_model(session *s, const options *o)
{
    artr_model_params mp;
    artr_error err;
    memset(&mp, 0, sizeof mp);
    mp.vocab_path = o->vocab;
    if (artr_model_load_file(&s->m, o->model, &mp, &err) != ARTR_OK) {
        fprintf(stderr, "artr-text: cannot load '%s': %s\n", o->model, err.msg);
        return 0;
    }
    s->vi = artr_model_vocab(s->m);
    if (!s->vi || s->vi->n_vocab == 0) {
        fprintf(stderr, "artr-text: '%s' has no tokenizer (a llama2.c checkpoint needs -z tokenizer.bin)\n",
                o->model);
        return 0;
    }
    s->n_ctx = o->n_ctx ? o->n_ctx : artr_model_config(s->m)->n_ctx_train;
    if (!o->n_ctx && s->n_ctx > 4096) s->n_ctx = 4096;
    return 1;
}

/* The prompt (-p, -f or empty) as ids, BOS first if the model has one; it must fit the
   context unless the cache is bounded. NULL after a message. */
static int32_t *read_prompt(const session *s, const options *o, int *n_prompt)
{
    char *text = NULL;
    size_t text_len = 0;
    int32_t *prompt;
    if (o->prompt_file) {
        if (!(text = read_file(o->prompt_file, &text_len))) return NULL;
    } else if (o->prompt) {
        text_len = strlen(o->prompt);
    }
    prompt = tokenize(s->m, text ? text : o->prompt ? o->prompt : "", text_len,
                      s->vi->bos >= 0 ? ARTR_TOKENIZE_BOS : 0, n_prompt);
    free(text);
    if (!prompt) return NULL;
    if (*n_prompt < 1) {
        fprintf(stderr, "artr-text: empty prompt and the model has no BOS token to start from\n");
        free(prompt);
        return NULL;
    }
    if (*n_prompt >= s->n_ctx && !o->sink) {
        fprintf(stderr, "artr-text: the prompt has %d tokens; the context holds %d (-c)\n", *n_prompt,
                s->n_ctx);
        free(prompt);
        return NULL;
    }
    return prompt;
}

/* Whether draft d (from path) has model m's vocabulary: the same size and, where both
   have a tokenizer, the same piece for every id. 0 after a message naming the draft. */
/* Whether draft d can draft for m, by llama.cpp's rule (common_speculative_are_compatible):
   the same tokenizer kind and BOS/EOS use, sizes within 128 (a family's models pad their
   vocabularies differently: Qwen2.5 0.5B has 151936 rows, 7B 152064), and the same piece
   for every id from 5 up to the smaller size. Ids are shared; artr_step_speculative
   rejects a draft id the target lacks. 0 after a message. */
#define VOCAB_MAX_SIZE_DIFFERENCE 128
#define VOCAB_CHECK_START_ID 5
static int same_vocab(const artr_model *m, const artr_model *d, const char *path)
{
    const artr_vocab_info *vm = artr_model_vocab(m), *vd = artr_model_vocab(d);
    int nm = artr_model_config(m)->n_vocab, nd = artr_model_config(d)->n_vocab, i, n = nm < nd ? nm : nd;
    if (nm - nd > VOCAB_MAX_SIZE_DIFFERENCE || nd - nm > VOCAB_MAX_SIZE_DIFFERENCE) {
        fprintf(stderr, "artr-text: draft '%s' has a vocabulary of %d tokens, the model %d: a draft must share "
                        "the model's vocabulary (sizes within %d)\n", path, nd, nm, VOCAB_MAX_SIZE_DIFFERENCE);
        return 0;
    }
    if (!vm || !vd || vm->n_vocab == 0 || vd->n_vocab == 0) {
        if (nm == nd) return 1;
        fprintf(stderr, "artr-text: draft '%s' has %d tokens, the model %d, and no vocabulary to compare them by\n",
                path, nd, nm);
        return 0;
    }
    if (vm->kind != vd->kind || vm->add_bos != vd->add_bos || vm->add_eos != vd->add_eos ||
        (vm->add_bos && vm->bos != vd->bos) || (vm->add_eos && vm->eos != vd->eos)) {
        fprintf(stderr, "artr-text: draft '%s': its tokenizer differs from the model's (kind, BOS or EOS): a draft must "
                        "share the model's vocabulary\n", path);
        return 0;
    }
    for (i = VOCAB_CHECK_START_ID < n ? VOCAB_CHECK_START_ID : 0; i < n; i++) {
        size_t lm = 0, ld = 0;
        const char *pm = artr_token_piece(m, i, &lm), *pd = artr_token_piece(d, i, &ld);
        if (!pm != !pd || lm != ld || (pm && memcmp(pm, pd, lm))) {
            fprintf(stderr, "artr-text: draft '%s': token %d is not the model's: a draft must share the "
                            "model's vocabulary\n", path, i);
            return 0;
        }
    }
    return 1;
}

/* The context, and for --draft / --self-spec the draft's (loading the draft model).
   0 after a message. */
static int make_contexts(session *s, const options *o)
{
    const artr_model *draft_model = s->m;
    artr_ctx_params *cp = &s->cp;
    artr_error err;
    memset(cp, 0, sizeof *cp);
    cp->n_ctx = s->n_ctx;
    cp->n_batch = s->n_ctx - o->sink < 128 ? s->n_ctx - o->sink : 128;
    cp->n_threads = o->n_threads;
    cp->n_sink = o->sink;
    cp->kv_type = o->kv_type;
    if (o->sink && cp->n_batch < 8) {
        fprintf(stderr, "artr-text: --sink %d leaves too small a window in a context of %d (-c)\n", o->sink,
                s->n_ctx);
        return 0;
    }
    {
        int guesses = o->jacobi ? o->jacobi : o->spec_jacobi ? o->spec_jacobi : o->draft || o->self_spec || o->lookup ? o->draft_n : 0;
        if (guesses > cp->n_batch - 1) {
            fprintf(stderr, "artr-text: %d guesses per step need a batch of %d; the context (-c %d) allows %d\n",
                    guesses, guesses + 1, s->n_ctx, cp->n_batch);
            return 0;
        }
    }
    if (artr_ctx_create(&s->c, s->m, cp, &err) != ARTR_OK) {
        fprintf(stderr, "artr-text: %s\n", err.msg);
        return 0;
    }
    {
        artr_draft_params dp;
        memset(&dp, 0, sizeof dp);
        dp.adaptive = !o->policy_fixed;
        dp.draft_min = o->draft_min;
        dp.p_min = o->draft_p_min;
        dp.branch = o->draft_tree;
        if (artr_ctx_set_draft(s->c, &dp, &err) != ARTR_OK) {
            fprintf(stderr, "artr-text: %s\n", err.msg);
            return 0;
        }
    }
    if (!o->draft && !o->self_spec) return 1;
    if (o->draft) {
        if (artr_model_load_file(&s->dm, o->draft, NULL, &err) != ARTR_OK) {
            fprintf(stderr, "artr-text: cannot load draft '%s': %s\n", o->draft, err.msg);
            return 0;
        }
        draft_model = s->dm;
        if (!same_vocab(s->m, s->dm, o->draft)) return 0;
    } else if (o->self_spec >= artr_model_config(s->m)->n_layer) {
        fprintf(stderr, "artr-text: --self-spec %d: the model has %d layers; use fewer\n", o->self_spec,
                artr_model_config(s->m)->n_layer);
        return 0;
    }
    cp->n_layers = o->self_spec;
    if (artr_ctx_create(&s->d, draft_model, cp, &err) != ARTR_OK) {
        fprintf(stderr, "artr-text: draft context: %s\n", err.msg);
        return 0;
    }
    return 1;
}

/* Feed the prompt to the context (and the draft's); with a bounded cache a prompt longer
   than the context keeps its last n_ctx / 2 tokens. 0 after a message. */
static int prefill(session *s, const options *o, int32_t *prompt, int *n_prompt)
{
    artr_error err;
    if (*n_prompt > s->n_ctx - 1 && o->sink) { /* an endless stream: keep the prompt's tail */
        int keep = s->n_ctx / 2;
        memmove(prompt, prompt + *n_prompt - keep, (size_t)keep * sizeof(int32_t));
        *n_prompt = keep;
    }
    if (!feed(s->c, prompt, *n_prompt, s->cp.n_batch, &err) ||
        (s->d && !feed(s->d, prompt, *n_prompt, s->cp.n_batch, &err))) {
        fprintf(stderr, "artr-text: %s\n", err.msg);
        return 0;
    }
    return 1;
}

/* One decoding step with the strategy the options chose. */
static artr_status step(session *s, options *o, int32_t *out, int room, int *n_out, artr_error *err)
{
    artr_sampler *sp = &o->s;
    if (o->draft || o->self_spec) return artr_step_speculative(s->c, s->d, sp, o->draft_n, out, room, n_out, err);
    if (o->lookup) return artr_step_lookup(s->c, sp, o->draft_n, o->lookup_ngram, out, room, n_out, err);
    if (o->lookahead)
        return artr_step_lookahead(s->c, sp, o->la_window, o->la_ngram, o->la_verify, out, room, n_out, err);
    if (o->jacobi) return artr_step_jacobi(s->c, sp, o->jacobi, out, room, n_out, err);
    if (o->spec_jacobi) return artr_step_spec_jacobi(s->c, sp, o->spec_jacobi, NULL, 0, out, room, n_out, err);
    return artr_step(s->c, sp, out, room, n_out, err);
}

static void context_full(int n_ctx)
{
    fprintf(stderr, "\nartr-text: the context is full (%d tokens; -c for more, --sink for endless)\n", n_ctx);
}

/* Step until n_predict tokens (counted in *n_gen), an end-of-generation token (EOS,
   <|im_end|>, <|eot_id|>, ...: artr_token_is_eog), a full context or Ctrl-C,
   streaming the text, then flush the detokenizer. 0 on an error (printed) or a failed
   write. */
static int generate(session *s, options *o, int *n_gen)
{
    artr_error err;
    int stop = 0;
    char tail[8];
    size_t n = 0;
    while (!g_stop && !stop && (o->n_predict < 0 || *n_gen < o->n_predict)) {
        int32_t out[80];
        int n_out = 0, i, room = o->n_predict < 0 ? 80 : o->n_predict - *n_gen;
        artr_status st;
        if (room > 80) room = 80;
        if (!o->sink && artr_ctx_pos(s->c) + 1 >= s->n_ctx) {
            context_full(s->n_ctx);
            s->full = 1;
            break;
        }
        st = step(s, o, out, room, &n_out, &err);
        if (st == ARTR_E_FULL) {
            context_full(s->n_ctx);
            s->full = 1;
            break;
        }
        if (st != ARTR_OK) {
            fprintf(stderr, "\nartr-text: %s\n", err.msg);
            return 0;
        }
        for (i = 0; i < n_out; i++) {
            if (!o->ignore_eos && artr_token_is_eog(s->m, out[i])) { /* EOS or end of turn */
                int pos = artr_ctx_pos(s->c) - (n_out - i - 1); /* keep it, drop what followed */
                artr_ctx_truncate(s->c, pos, NULL);
                if (s->d && artr_ctx_pos(s->d) > pos) artr_ctx_truncate(s->d, pos, NULL);
                s->ended = out[i];
                stop = 1;
                break;
            }
            if (!emit_kept(s->m, &s->detok, out[i], s->reply_on ? &s->reply : NULL, &s->reply_len, &s->reply_cap))
                return 0;
            (*n_gen)++;
        }
    }
    artr_detok_flush(s->m, &s->detok, tail, sizeof tail, &n, NULL);
    fwrite(tail, 1, n, stdout);
    return !s->reply_on || !n || keep_bytes(&s->reply, &s->reply_len, &s->reply_cap, tail, n);
}

/* -i: read a line and feed it to continue from. 1: go on; 0: stop (end of input, or the
   line does not fit); -1: an error (printed). */
static int read_turn(session *s)
{
    char line[4096];
    int32_t *more;
    int n_more;
    artr_error err;
    fputs("\n> ", stdout);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) return 0;
    more = tokenize(s->m, line, strlen(line), ARTR_TOKENIZE_NO_SPACE_PREFIX, &n_more);
    if (!more) return -1;
    if (!s->cp.n_sink && artr_ctx_pos(s->c) + n_more + 1 >= s->n_ctx) {
        fprintf(stderr, "artr-text: that line does not fit in the context (%d tokens)\n", s->n_ctx);
        free(more);
        return 0;
    }
    if (!feed(s->c, more, n_more, s->cp.n_batch - 1, &err) ||
        (s->d && !feed(s->d, more, n_more, s->cp.n_batch - 1, &err))) {
        fprintf(stderr, "artr-text: %s\n", err.msg);
        free(more);
        return -1;
    }
    free(more);
    return 1;
}

/* ---- chat mode (-cnv) ---- */

/* The conversation: messages (their texts owned here) and how much of its formatted text
   the context already holds. */
typedef struct chat {
    int tmpl;
    artr_chat_msg *msgs;
    int n, cap;
    char *text;       /* the conversation as last formatted (NUL-terminated) */
    size_t held;      /* bytes of text already in the context */
} chat;

static void chat_free(chat *ch)
{
    int i;
    for (i = 0; i < ch->n; i++) free((void *)ch->msgs[i].content);
    free(ch->msgs);
    free(ch->text);
}

static int chat_push(chat *ch, const char *role, const char *content, size_t len)
{
    char *copy = (char *)malloc(len + 1);
    if (!copy) return 0;
    memcpy(copy, content, len);
    copy[len] = 0;
    if (ch->n == ch->cap) {
        int cap = ch->cap ? 2 * ch->cap : 8;
        artr_chat_msg *m = (artr_chat_msg *)realloc(ch->msgs, (size_t)cap * sizeof *m);
        if (!m) {
            free(copy);
            return 0;
        }
        ch->msgs = m;
        ch->cap = cap;
    }
    ch->msgs[ch->n].role = role;
    ch->msgs[ch->n].content = copy;
    ch->n++;
    return 1;
}

/* Format the whole conversation into a fresh ch->text; at: 2 * n content spans (malloc). */
static int chat_format(const session *s, chat *ch, int add_assistant, size_t **at)
{
    artr_error err;
    size_t len = 0;
    *at = (size_t *)malloc(2 * (size_t)(ch->n ? ch->n : 1) * sizeof **at);
    if (!*at) return 0;
    artr_chat_format(s->m, ch->tmpl, ch->msgs, ch->n, add_assistant, NULL, 0, &len, NULL, &err);
    free(ch->text);
    ch->text = (char *)malloc(len + 1);
    if (!ch->text || artr_chat_format(s->m, ch->tmpl, ch->msgs, ch->n, add_assistant, ch->text, len + 1, &len,
                                      *at, &err) != ARTR_OK) {
        fprintf(stderr, "artr-text: %s\n", ch->text ? err.msg : "out of memory");
        return 0;
    }
    return 1;
}

/* Feed text[from, to): the template's own text with special tokens, what a user or the
   model wrote (the content spans at) as plain text, so typing "<|im_end|>" cannot end a
   turn. BOS first when from is 0 and the model adds one. */
static int chat_feed(session *s, const chat *ch, const size_t *at, size_t from, size_t to)
{
    size_t i = from;
    artr_error err;
    while (i < to) {
        size_t end = to;
        int k, plain = 0, flags, n = 0;
        int32_t *ids;
        for (k = 0; k < ch->n; k++) {
            if (at[2 * k] <= i && i < at[2 * k + 1]) { /* inside a content */
                plain = 1;
                if (at[2 * k + 1] < end) end = at[2 * k + 1];
            } else if (at[2 * k] > i && at[2 * k] < end) {
                end = at[2 * k];
            }
        }
        flags = plain ? 0 : ARTR_TOKENIZE_SPECIAL;
        if (i == 0 && s->vi->add_bos && s->vi->bos >= 0) flags |= ARTR_TOKENIZE_BOS;
        if (i > 0) flags |= ARTR_TOKENIZE_NO_SPACE_PREFIX;
        ids = tokenize(s->m, ch->text + i, end - i, flags, &n);
        if (!ids) return 0;
        if (!s->cp.n_sink && artr_ctx_pos(s->c) + n + 1 >= s->n_ctx) {
            context_full(s->n_ctx);
            free(ids);
            return 0;
        }
        if (!feed(s->c, ids, n, s->cp.n_batch, &err) || (s->d && !feed(s->d, ids, n, s->cp.n_batch, &err))) {
            fprintf(stderr, "artr-text: %s\n", err.msg);
            free(ids);
            return 0;
        }
        free(ids);
        i = end;
    }
    return 1;
}

/* Bring the context up to the conversation with the assistant's turn opened: only the new
   text is fed, unless the format rewrote earlier text (then all of it, from empty). */
static int chat_prefill(session *s, chat *ch)
{
    size_t *at = NULL, held = ch->held;
    char *before = ch->text;
    int ok;
    ch->text = NULL;
    if (!chat_format(s, ch, 1, &at)) {
        free(before);
        free(at);
        return 0;
    }
    if (held && (!before || strncmp(before, ch->text, held) != 0)) { /* not a continuation */
        artr_ctx_truncate(s->c, 0, NULL);
        if (s->d) artr_ctx_truncate(s->d, 0, NULL);
        held = 0;
    }
    free(before);
    ok = chat_feed(s, ch, at, held, strlen(ch->text));
    ch->held = strlen(ch->text);
    free(at);
    return ok;
}

/* After a reply: the context holds the reply and, if generation stopped there, the token
   that ended it; note how much of the formatted conversation that is. */
static int chat_replied(session *s, chat *ch, int ended)
{
    size_t *at = NULL, end;
    int ok = chat_format(s, ch, 0, &at);
    if (ok) {
        const char *piece;
        size_t len = 0;
        end = at[2 * (ch->n - 1) + 1];
        piece = ended >= 0 ? artr_token_piece(s->m, ended, &len) : NULL;
        if (piece && len <= strlen(ch->text) - end && !memcmp(ch->text + end, piece, len)) end += len;
        ch->held = end;
    }
    free(at);
    return ok;
}

/* -cnv: read a user line, answer it, keep the context between turns; /exit, an empty
   input stream or a full context ends the chat, Ctrl-C ends the current reply. */
static int run_chat(session *s, options *o)
{
    chat ch;
    artr_error err;
    char line[8192];
    int rc = 1;
    memset(&ch, 0, sizeof ch);
    if (artr_chat_template(s->m, o->chat_template, &ch.tmpl, &err) != ARTR_OK) {
        fprintf(stderr, "artr-text: %s (--chat-template NAME)\n", err.msg);
        return 1;
    }
    if (o->system_prompt && !chat_push(&ch, "system", o->system_prompt, strlen(o->system_prompt))) goto done;
    if (!o->n_predict_given) o->n_predict = -1;
    s->reply_on = 1;
    for (;;) {
        size_t n;
        int n_gen = 0;
        if (o->prompt && ch.n <= (o->system_prompt != NULL)) {
            snprintf(line, sizeof line, "%s", o->prompt);
        } else {
            fputs("\n> ", stdout);
            fflush(stdout);
            if (!fgets(line, sizeof line, stdin)) break;
        }
        n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (!strcmp(line, "/exit")) break;
        if (!chat_push(&ch, "user", line, n) || !chat_prefill(s, &ch)) goto done;
        g_stop = 0;
        s->reply_len = 0;
        s->ended = -1;
        memset(&s->detok, 0, sizeof s->detok); /* each reply is a stream of its own */
        if (!generate(s, o, &n_gen)) goto done;
        fputc('\n', stdout);
        if (!chat_push(&ch, "assistant", s->reply ? s->reply : "", s->reply_len) ||
            !chat_replied(s, &ch, s->ended))
            goto done;
        if (s->full) break;
    }
    rc = 0;
done:
    g_stop = 0;
    chat_free(&ch);
    return rc;
}

/* Speeds on stderr; for the faster strategies, forward calls per token and acceptance. */
static void report(const session *s, const options *o, int n_prompt, int n_gen, double t0, double t1,
                   double t2)
{
    artr_stats st;
    artr_ctx_stats(s->c, &st);
    fprintf(stderr, "\nprompt: %d tokens in %.3f s (%.1f tokens/s)\n", n_prompt, t1 - t0, n_prompt / (t1 - t0 + 1e-12));
    fprintf(stderr, "generated: %d tokens in %.3f s (%.1f tokens/s)%s\n", n_gen, t2 - t1, n_gen / (t2 - t1 + 1e-12),
            g_stop ? " (stopped by Ctrl-C)" : "");
    if (o->draft || o->self_spec || o->jacobi || o->spec_jacobi || o->lookup || o->lookahead)
        fprintf(stderr, "decoding: %lld target forward calls for %lld tokens (%.2f tokens/call), %lld of %lld guesses accepted (%.1f%%)\n",
                (long long)st.calls, (long long)st.tokens, (double)st.tokens / (double)(st.calls ? st.calls : 1),
                (long long)st.accepted, (long long)st.drafted, 100.0 * (double)st.accepted / (double)(st.drafted ? st.drafted : 1));
    if (o->draft || o->self_spec || o->jacobi || o->spec_jacobi || o->lookup || o->lookahead) {
        double steps = (double)(st.steps ? st.steps : 1);
        fprintf(stderr, "policy: %s, %s %d: %lld of %lld steps stepped aside (%.1f%%), %lld re-probes, %lld plain for a short or no draft, %lld drafts cut by p-min",
                o->policy_fixed ? "fixed" : "adaptive", o->jacobi || o->spec_jacobi ? "window" : "draft-max",
                o->jacobi ? o->jacobi : o->spec_jacobi ? o->spec_jacobi : o->draft_n, (long long)st.aside, (long long)st.steps,
                100.0 * (double)st.aside / steps, (long long)st.probes, (long long)st.short_drafts, (long long)st.cut);
        if (st.t_decode > 0 && st.t_verify > 0)
            fprintf(stderr, "; measured: verifying %d tokens costs %.2f decodes", st.last_k + 1, st.t_verify / st.t_decode);
        fputc('\n', stderr);
    }
}

int main(int argc, char **argv)
{
    options o;
    session s;
    int32_t *prompt = NULL;
    int n_prompt = 0, n_gen = 0, rc = 1, r;
    double t0, t1, t2;

    if ((r = parse_args(argc, argv, &o)) != 0) return r == 1 ? 0 : 2;
    signal(SIGINT, on_sigint);
    memset(&s, 0, sizeof s);
    if (!load_model(&s, &o)) goto done;
    if (o.perplexity) {
        rc = run_perplexity(s.m, &o, s.n_ctx);
        goto done;
    }
    o.s.rng = o.seed_given ? o.seed : (uint64_t)time(NULL);
    if (o.conversation) {
        if (make_contexts(&s, &o)) rc = run_chat(&s, &o);
        goto done;
    }
    if (!(prompt = read_prompt(&s, &o, &n_prompt)) || !make_contexts(&s, &o)) goto done;

    t0 = now_s();
    if (!prefill(&s, &o, prompt, &n_prompt)) goto done;
    t1 = now_s();
    for (r = 0; r < n_prompt; r++) /* echo the prompt as the model reads it */
        if (!emit(s.m, &s.detok, prompt[r])) goto done;
    for (;;) {
        if (!generate(&s, &o, &n_gen)) goto done;
        if (!o.interactive || g_stop) break;
        if ((r = read_turn(&s)) < 0) goto done;
        if (r == 0) break;
        n_gen = 0;
    }
    t2 = now_s();
    fputc('\n', stdout);
    report(&s, &o, n_prompt, n_gen, t0, t1, t2);
    rc = 0;
done:
    free(prompt);
    session_free(&s);
    return rc;
}
