#!/bin/sh
# artr side by side with llama.cpp and llama2.c, in one invocation (a benchmark, never a
# test). For each weight type it runs artr-bench, then llama.cpp's llama-bench, on the
# same random-weight GGUF (tools/gen_bench_models.py), and llama2.c's OpenMP `run` on the
# same F32 weights in its checkpoint layout, all with the same thread count, and prints
# tokens/s and the ratios.
#
#   LLAMA_CPP_DIR=/path/to/llama.cpp/build LLAMA2C_DIR=/path/to/llama2.c \
#       tools/compare.sh [SHAPE] [TYPES]
#
# SHAPE: 110M (default) or 15M; TYPES: default every weight type, "f32 f16 q8_0 q4_0 q4_1
# q5_0 q5_1 iq4_nl q2_k q3_k q4_k q5_k q6_k iq4_xs q4_k_m". The first four come from
# tools/gen_bench_models.py; the others are made here from its F32 file by
# build/artr-quantize (--pure: every matrix in the type; q4_k_m: llama-quantize's mix,
# Q4_K with Q6_K output and more-bits layers) and kept in build/bench-models. THREADS (default 2),
# REPS (default 3). LLAMA_CPP_DIR is a llama.cpp build directory holding bin/llama-bench
# (or llama-bench); LLAMA2C_DIR a llama2.c checkout built with `make runomp`; either may
# be left out. Build the peers yourself outside this repository, from public checkouts;
# nothing here fetches or builds them. llama2.c's `run` needs a 32000-token
# tokenizer.bin: TOKENIZER (default ../shared/models/llama2-tokenizer.bin).
# Run from the repository root after `make build/artr-bench` and
#   python tools/gen_bench_models.py 110M
set -u
SHAPE=${1:-110M}
TYPES=${2:-"f32 f16 q8_0 q4_0 q4_1 q5_0 q5_1 iq4_nl q2_k q3_k q4_k q5_k q6_k iq4_xs q4_k_m"}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
DIR=build/bench-models
TOKENIZER=${TOKENIZER:-../shared/models/llama2-tokenizer.bin}
BENCH=build/artr-bench
OUT=build/compare
mkdir -p $OUT

die() { echo "compare.sh: $*" >&2; exit 1; }
[ -x $BENCH ] || die "$BENCH not built (make build/artr-bench)"
QUANTIZE=build/artr-quantize

# The model file of type $1, made from the F32 one by artr-quantize where gen_bench_models.py
# does not write it.
model_for() {
    f=$DIR/stories$SHAPE-$1.gguf
    [ -f "$f" ] && { echo "$f"; return; }
    src=$DIR/stories$SHAPE-f32.gguf
    [ -f "$src" ] || die "$src missing (python tools/gen_bench_models.py $SHAPE)"
    [ -x $QUANTIZE ] || die "$QUANTIZE not built (make build/artr-quantize)"
    T=$(echo "$1" | tr a-z A-Z)
    if [ "$1" = q4_k_m ]; then $QUANTIZE -q "$src" "$f" Q4_K_M >&2 || die "artr-quantize $T failed"
    else $QUANTIZE -q --pure "$src" "$f" "$T" >&2 || die "artr-quantize $T failed"; fi
    echo "$f"
}

LLAMA_BENCH=""
if [ -n "${LLAMA_CPP_DIR:-}" ]; then
    for b in "$LLAMA_CPP_DIR/bin/llama-bench" "$LLAMA_CPP_DIR/llama-bench" "$LLAMA_CPP_DIR/build/bin/llama-bench"; do
        [ -x "$b" ] && LLAMA_BENCH=$b && break
    done
    [ -n "$LLAMA_BENCH" ] || die "no llama-bench under LLAMA_CPP_DIR=$LLAMA_CPP_DIR"
fi
LLAMA2C_RUN=""
if [ -n "${LLAMA2C_DIR:-}" ]; then
    [ -x "$LLAMA2C_DIR/run" ] || die "no run binary in LLAMA2C_DIR=$LLAMA2C_DIR (make runomp there)"
    [ -f "$TOKENIZER" ] || die "llama2.c needs a tokenizer.bin: TOKENIZER=$TOKENIZER not found"
    LLAMA2C_RUN=$LLAMA2C_DIR/run
fi

# artr: pp512 and tg128 from artr-bench's report
artr_run() { # file -> "pp512 tg128" tokens/s
    OMP_NUM_THREADS=$THREADS $BENCH -m "$1" -t "$THREADS" > $OUT/artr.txt 2>&1 || { echo "- -"; return; }
    pp=$(awk '$1 == "pp512" {print $2}' $OUT/artr.txt)
    tg=$(awk '$1 == "tg128" {print $2}' $OUT/artr.txt)
    echo "${pp:--} ${tg:--}"
}

# llama.cpp: llama-bench's CSV (avg_ts is the last column), pp512 then tg128
llama_run() {
    [ -n "$LLAMA_BENCH" ] || { echo "- -"; return; }
    "$LLAMA_BENCH" -m "$1" -t "$THREADS" -p 512 -n 128 -r "$REPS" -o csv > $OUT/llama.csv 2> $OUT/llama.err ||
        { echo "- -"; return; }
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); col[$i] = i } next }
             { gsub(/"/, ""); if ($col["n_prompt"] > 0) pp = $col["avg_ts"]; else tg = $col["avg_ts"] }
             END { printf "%s %s\n", pp == "" ? "-" : pp, tg == "" ? "-" : tg }' $OUT/llama.csv
}

# llama2.c: greedy generation of 128 tokens; it prints "achieved tok/s: X"
llama2c_run() {
    [ -n "$LLAMA2C_RUN" ] && [ -f "$1" ] || { echo "-"; return; }
    OMP_NUM_THREADS=$THREADS "$LLAMA2C_RUN" "$1" -z "$TOKENIZER" -t 0 -n 128 -i "Once upon a time" \
        > $OUT/llama2c.txt 2>&1 || { echo "-"; return; }
    awk '/achieved tok\/s/ {print $NF}' $OUT/llama2c.txt | tail -1
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

echo "artr vs llama.cpp vs llama2.c: stories$SHAPE shape, random weights, $THREADS threads, $(date -u +%Y-%m-%d)"
echo "machine: $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), $(nproc) cores"
[ -n "$LLAMA_BENCH" ] && echo "llama.cpp: $LLAMA_BENCH ($(cd "$(dirname "$LLAMA_BENCH")" && git log -1 --format=%h 2>/dev/null || echo '?'))"
[ -n "$LLAMA2C_RUN" ] && echo "llama2.c: $LLAMA2C_RUN"
printf "%-6s %-6s %10s %10s %8s %10s %8s\n" type test artr llama.cpp ratio llama2.c ratio
for t in $TYPES; do
    f=$(model_for "$t") || exit 1
    set -- $(artr_run "$f"); a_pp=$1 a_tg=$2
    set -- $(llama_run "$f"); l_pp=$1 l_tg=$2
    c_tg="-"
    [ "$t" = f32 ] && c_tg=$(llama2c_run "$DIR/stories$SHAPE.bin")
    printf "%-6s %-6s %10s %10s %8s %10s %8s\n" "$t" pp512 "$a_pp" "$l_pp" "$(ratio "$a_pp" "$l_pp")" - -
    printf "%-6s %-6s %10s %10s %8s %10s %8s\n" "$t" tg128 "$a_tg" "$l_tg" "$(ratio "$a_tg" "$l_tg")" "${c_tg:--}" "$(ratio "$a_tg" "${c_tg:--}")"
    grep -E "^verify|^memory" $OUT/artr.txt | sed "s/^/       artr $t: /"
done
