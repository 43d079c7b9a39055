#!/bin/sh
# CLI tests for artr-image: artr's loss equals PyTorch's on the fixture sequences, the PNG
# is valid (signature, CRCs, zlib, Adler-32: tests/png_check.c), a seed reproduces the PNG,
# greedy SJD output equals plain greedy output, and bad input exits non-zero with one
# message. usage: tests/test_image.sh MODEL   (from the repository root, after
# make build/artr-image build/png_check). Prints "N passed, N failed, N skipped" last.
MODEL=${1:-models/fashion.gguf}
BIN=${BIN:-build/artr-image}
CHECK=build/png_check
OUT=build/image-test
FIX=tests/fixtures/image/nll.txt
rm -rf $OUT # nothing an earlier run left can pass
mkdir -p $OUT
pass=0
fail=0
skipped=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; }
# skip NAME REASON: a check that could not run fails unless ARTR_TEST_ALLOW_SKIP ("all" or
# names, comma-separated) names it; skip_shared: ../shared is absent, an expected skip.
skip() {
    case ",${ARTR_TEST_ALLOW_SKIP:-}," in
    *,all,* | *",$1,"*) skipped=$((skipped + 1)); echo "skip  $1: $2" ;;
    *) bad "$1: $2 (an unexpected skip; ARTR_TEST_ALLOW_SKIP=$1 allows it)" ;;
    esac
}
skip_shared() { skipped=$((skipped + 1)); echo "skip  $1: $2"; }

# artr's loss on the fixture = PyTorch's (the first line of the fixture), within 1e-4
want=$(sed -n '1s/.*PyTorch mean loss \([0-9.]*\).*/\1/p' $FIX)
got=$($BIN -m "$MODEL" --nll $FIX 2> $OUT/nll.err | sed -n 's/.*mean loss \([0-9.]*\).*/\1/p')
if [ -n "$got" ] && awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 1e-4 && d > -1e-4) }'; then
    ok "--nll: artr $got = PyTorch $want nats/code"
else
    bad "--nll: artr '$got', PyTorch '$want' ($(head -1 $OUT/nll.err))"
fi

# a sampled grid: valid PNG of the right size; the same seed gives the same bytes
rm -f $OUT/a.png $OUT/b.png $OUT/c.png
$BIN -m "$MODEL" -n 12 --cols 6 -s 3 -o $OUT/a.png > $OUT/a.out 2> $OUT/a.err
if [ $? -eq 0 ] && [ "$($CHECK $OUT/a.png 2>&1)" = "ok 182x62" ]; then ok "PNG valid (182x62: 6 x 2 images of 28x28, 2-pixel gaps)"; else bad "PNG valid: $($CHECK $OUT/a.png 2>&1)"; fi
$BIN -m "$MODEL" -n 12 --cols 6 -s 3 -o $OUT/b.png > /dev/null 2>&1
if [ -s $OUT/a.png ] && cmp -s $OUT/a.png $OUT/b.png; then ok "same seed, same PNG"; else bad "same seed, same PNG"; fi
$BIN -m "$MODEL" -n 12 --cols 6 -s 4 -o $OUT/c.png > /dev/null 2>&1
if [ -s $OUT/a.png ] && [ -s $OUT/c.png ] && ! cmp -s $OUT/a.png $OUT/c.png; then ok "another seed, another PNG"; else bad "another seed, another PNG"; fi
if grep -q "forward calls/image" $OUT/a.out; then ok "report: $(head -1 $OUT/a.out | cut -c1-90)..."; else bad "report line"; fi

# greedy: SJD (both inits, several windows, with and without CFG) = plain, byte for byte
rm -f $OUT/g.png $OUT/g.u8
$BIN -m "$MODEL" -n 10 --temp 0 -o $OUT/g.png --raw $OUT/g.u8 > /dev/null 2>&1
for flags in "--sjd" "--sjd-window 1" "--sjd-window 7 --sjd-init random" "--sjd-window 48" "--sjd --draft-policy fixed"; do
    rm -f $OUT/gs.png $OUT/gs.u8
    # shellcheck disable=SC2086
    $BIN -m "$MODEL" -n 10 --temp 0 $flags -o $OUT/gs.png --raw $OUT/gs.u8 > $OUT/gs.out 2>&1
    if [ $? -eq 0 ] && [ -s $OUT/g.u8 ] && cmp -s $OUT/g.u8 $OUT/gs.u8 && cmp -s $OUT/g.png $OUT/gs.png; then
        ok "greedy $flags = plain ($(sed -n 's/.*image): \([0-9.]*\) forward.*/\1/p' $OUT/gs.out) calls/image)"
    else
        bad "greedy $flags = plain"
    fi
done
rm -f $OUT/g1.png $OUT/g2.png
$BIN -m "$MODEL" -n 10 --temp 0 --cfg 1 --class sandal -o $OUT/g1.png > /dev/null 2>&1
$BIN -m "$MODEL" -n 10 --temp 0 --cfg 1 --class 5 --sjd -o $OUT/g2.png > /dev/null 2>&1
if [ -s $OUT/g1.png ] && cmp -s $OUT/g1.png $OUT/g2.png; then ok "greedy without CFG, --class by name = by index, SJD = plain"; else bad "greedy without CFG (--class sandal / 5)"; fi
if $BIN -m "$MODEL" --bench -n 4 -s 1 > $OUT/bench.out 2>&1 && grep -q "fewer forward calls" $OUT/bench.out; then
    ok "--bench: $(grep 'fewer' $OUT/bench.out)"
else
    bad "--bench"
fi

# bad input: the right exit code and one line naming the program, never a crash
expect_error() { # description, expected exit code, command...
    d=$1
    want=$2
    shift 2
    rm -f $OUT/err.out $OUT/err.txt $OUT/x.png
    "$@" > $OUT/err.out 2> $OUT/err.txt
    rc=$?
    if [ $rc -eq "$want" ] && [ "$(wc -l < $OUT/err.txt)" -eq 1 ] && grep -q "artr-image:" $OUT/err.txt; then
        ok "$d: exit $rc, $(head -1 $OUT/err.txt)"
    else
        bad "$d (exit $rc, expected $want; $(wc -l < $OUT/err.txt) lines: $(head -1 $OUT/err.txt))"
    fi
}
printf 'GGUF\003\000\000\000garbage' > $OUT/corrupt.gguf
printf '3 1 2 3\n' > $OUT/short.txt
expect_error "unknown flag" 2 $BIN -m "$MODEL" --frobnicate
expect_error "missing value" 2 $BIN -m "$MODEL" -n
expect_error "bad number" 2 $BIN -m "$MODEL" -n many
expect_error "negative cfg" 2 $BIN -m "$MODEL" --cfg -1
expect_error "window too large" 2 $BIN -m "$MODEL" --sjd-window 500
expect_error "bad --sjd-init" 2 $BIN -m "$MODEL" --sjd-init sideways
expect_error "bad --draft-policy" 2 $BIN -m "$MODEL" --sjd --draft-policy sometimes
expect_error "no model" 2 $BIN -n 3
expect_error "unknown class name" 2 $BIN -m "$MODEL" --class unicorn -o $OUT/x.png
expect_error "class out of range" 2 $BIN -m "$MODEL" --class 10 -o $OUT/x.png
expect_error "missing model file" 1 $BIN -m $OUT/no-such-model.gguf
expect_error "corrupt model file" 1 $BIN -m $OUT/corrupt.gguf
expect_error "text model (no image keys)" 1 $BIN -m tests/fixtures/hf_llama.gguf -o $OUT/x.png
expect_error "unwritable PNG" 1 $BIN -m "$MODEL" -n 1 -o $OUT/no-such-dir/x.png
expect_error "--nll: short line" 1 $BIN -m "$MODEL" --nll $OUT/short.txt
expect_error "--nll: missing file" 1 $BIN -m "$MODEL" --nll $OUT/no-such-file.txt
for f in bad_codebook_shape no_codebook classes_outside_vocab classes_overlap_codes grid_too_big_for_ctx no_null_class; do
    expect_error "fixture $f" 1 $BIN -m tests/fixtures/image/$f.gguf -o $OUT/x.png
done
# tiny random models (tests/fixtures/image/gen_fixtures.py): every mode runs, NaN/Inf
# codebook entries still give a valid PNG, greedy SJD = plain there too
ran=1
for f in ok nan_codebook; do
    for flags in "" "--sjd" "--sjd-window 2 --sjd-init random" "--bench" "--cfg 1 --class beta" "--cfg 0 --class 3 --top-k 0"; do
        rm -f $OUT/t.png
        # shellcheck disable=SC2086
        $BIN -m tests/fixtures/image/$f.gguf -n 7 -s 2 $flags -o $OUT/t.png > /dev/null 2> $OUT/t.err || { ran=0; echo "      $f $flags: $(cat $OUT/t.err)"; }
    done
    $CHECK $OUT/t.png > /dev/null || ran=0
done
if [ $ran -eq 1 ]; then ok "tiny models: every mode runs, PNG valid with a NaN/Inf codebook"; else bad "tiny models"; fi
rm -f $OUT/t1.u8 $OUT/t1.png $OUT/t2.u8 $OUT/t2.png
$BIN -m tests/fixtures/image/ok.gguf -n 20 --temp 0 --raw $OUT/t1.u8 -o $OUT/t1.png > /dev/null 2>&1
$BIN -m tests/fixtures/image/ok.gguf -n 20 --temp 0 --sjd-window 3 --raw $OUT/t2.u8 -o $OUT/t2.png > /dev/null 2>&1
if [ -s $OUT/t1.u8 ] && cmp -s $OUT/t1.u8 $OUT/t2.u8; then ok "tiny model: greedy SJD = plain"; else bad "tiny model: greedy SJD = plain"; fi
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
