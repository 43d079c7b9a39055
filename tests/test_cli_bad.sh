#!/bin/sh
# Bad input for every CLI (artr-text, artr-series, artr-image), meant for the sanitizer
# builds (make test-asan: SUFFIX=-asan): every value-taking numeric flag with a missing,
# negative, zero, huge, overflowing, non-numeric, empty, NaN and infinite value;
# unreadable (a directory) and empty files in every file argument; a model without a
# vocabulary; -c larger than the model's context. Each run must be a clean run (exit 0)
# or exit 1/2 with exactly one line "PROG: ..." on stderr; never a sanitizer report, a
# crash or a hang; and after a failed run no output file (-o) exists.
# usage: tests/test_cli_bad.sh   (from the repository root; SUFFIX=-asan picks
# build/artr-text-asan etc.). Prints "N passed, N failed, N skipped" last.
SUFFIX=${SUFFIX:-}
OUT=build/cli-bad$SUFFIX
rm -rf $OUT
mkdir -p $OUT
pass=0
fail=0
skipped=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; }
TEXT_MODEL=models/shakespeare-draft.gguf
SERIES_MODEL=models/etth1.gguf
IMAGE_MODEL=models/fashion.gguf

# check PROG OUTFILE DESCRIPTION COMMAND...: one run, judged as above. OUTFILE ("-" for
# none) is deleted first and must not exist after a failure.
check() {
    prog=$1
    outfile=$2
    d=$3
    shift 3
    [ "$outfile" != - ] && rm -f "$outfile"
    timeout 120 "$@" > $OUT/stdout 2> $OUT/stderr < /dev/null
    rc=$?
    lines=$(wc -l < $OUT/stderr)
    if grep -q "Sanitizer\|runtime error" $OUT/stderr; then
        bad "$d: sanitizer report (exit $rc): $(grep -m1 'Sanitizer\|runtime error' $OUT/stderr)"
    elif [ $rc -eq 0 ]; then
        ok
    elif [ $rc -ne 1 ] && [ $rc -ne 2 ]; then
        bad "$d: exit $rc ($(head -1 $OUT/stderr))"
    elif [ "$lines" -ne 1 ] || ! grep -q "^$prog: ." $OUT/stderr; then
        bad "$d: exit $rc with $lines lines on stderr, expected one '$prog: ...': $(head -3 $OUT/stderr | tr '\n' '|')"
    elif [ "$outfile" != - ] && [ -e "$outfile" ]; then
        bad "$d: exit $rc but $outfile was written"
    else
        ok
    fi
}

VALUES="-1 0 99999999999999999999 -99999999999999999999 2147483648 abc 12abc 1e999 nan inf -inf ''"

# flags PROG OUTFILE "BASE ARGS" FLAG...: every flag with every value, and missing.
flags() {
    prog=$1
    outfile=$2
    base=$3
    shift 3
    bin=build/$prog$SUFFIX
    for flag in "$@"; do
        for v in $VALUES; do
            [ "$v" = "''" ] && v=
            # shellcheck disable=SC2086
            check $prog "$outfile" "$prog $flag '$v'" $bin $base $flag "$v"
        done
        # shellcheck disable=SC2086
        check $prog "$outfile" "$prog $flag (missing value)" $bin $base $flag
    done
}

# the files: a directory where a file is expected, an empty file, a text file as a model
mkdir -p $OUT/dir.gguf
: > $OUT/empty
printf 'hello\n' > $OUT/text.txt
awk 'BEGIN { srand(3); print "date,load"; for (i = 0; i < 200; i++) printf "%d,%.4f\n", i, 10 + 3 * sin(i / 3.8) + rand() }' > $OUT/good.csv

if [ ! -f $TEXT_MODEL ] || [ ! -f $SERIES_MODEL ] || [ ! -f $IMAGE_MODEL ]; then
    bad "the shipped models are missing (models/)"
    echo "$pass passed, $fail failed, $skipped skipped"
    exit 1
fi

# ---- artr-text
T="-m $TEXT_MODEL -p ROMEO: -n 4"
flags artr-text - "$T" -n -c -t --draft-n --self-spec --sink --repeat-last-n --temp --top-k --top-p --min-p --repeat-penalty -s
flags artr-text - "$T --temp 0" --jacobi --spec-jacobi
flags artr-text - "$T --lookup" --draft-max --draft-min --draft-p-min --lookup-ngram --draft-policy
flags artr-text - "-m $TEXT_MODEL -p ROMEO:" --kv-type -p -f -m -z --draft --perplexity
for f in $OUT/dir.gguf $OUT/empty $OUT/text.txt $OUT/no-such-file; do
    check artr-text - "artr-text -m $f" build/artr-text$SUFFIX -m $f -p hi -n 2
    check artr-text - "artr-text -f $f" build/artr-text$SUFFIX -m $TEXT_MODEL -f $f -n 2
    check artr-text - "artr-text --draft $f" build/artr-text$SUFFIX -m $TEXT_MODEL --draft $f -n 2
    check artr-text - "artr-text --perplexity $f" build/artr-text$SUFFIX -m $TEXT_MODEL --perplexity $f
    check artr-text - "artr-text -z $f" build/artr-text$SUFFIX -m $TEXT_MODEL -z $f -n 2
done
check artr-text - "artr-text: a model without a vocabulary" build/artr-text$SUFFIX -m tests/fixtures/hf_llama.gguf -p hi -n 2
check artr-text - "artr-text -c 65536 (beyond the model's context)" build/artr-text$SUFFIX -m $TEXT_MODEL -c 65536 -p ROMEO: -n 4
check artr-text - "artr-text -c 1048576" build/artr-text$SUFFIX -m $TEXT_MODEL -c 1048576 -p ROMEO: -n 2
check artr-text - "artr-text -n -1 (stops at the full context)" build/artr-text$SUFFIX -m $TEXT_MODEL -c 64 -p ROMEO: -n -1 --ignore-eos
# a huge prompt file (100 MB; 10 MB on the slower sanitizer builds): one line, the prompt
# is longer than the context
if [ -z "$SUFFIX" ]; then MB=100; else MB=10; fi
yes word | head -c $((MB * 1000000)) > $OUT/big.txt
check artr-text - "artr-text -f (a $MB MB prompt)" build/artr-text$SUFFIX -m $TEXT_MODEL -f $OUT/big.txt -n 2
rm -f $OUT/big.txt
# -n -1 with a bounded cache, stopped by SIGINT once it is generating (its first output,
# then a second more; a SIGINT before the program has started, on a machine slowed by the
# 100 MB file above, would only test the shell): exit 0, the statistics printed
build/artr-text$SUFFIX -m $TEXT_MODEL -c 64 --sink 4 -n -1 --ignore-eos -p ROMEO: \
    > $OUT/sig.out 2> $OUT/sig.err < /dev/null &
pid=$!
( sleep 60; kill -KILL $pid 2> /dev/null ) &
watchdog=$!
i=0
while [ $i -lt 300 ] && [ ! -s $OUT/sig.out ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
kill -INT $pid
wait $pid
rc=$?
kill $watchdog 2> /dev/null
wait $watchdog 2> /dev/null
if [ $rc -eq 0 ] && grep -q "stopped by Ctrl-C" $OUT/sig.err && ! grep -q "Sanitizer\|runtime error" $OUT/sig.err; then
    ok
else
    bad "artr-text -n -1 stopped by SIGINT: exit $rc, $(tail -1 $OUT/sig.err)"
fi

# ---- artr-series
S="-m $SERIES_MODEL --csv $OUT/good.csv --column load --horizon 4 --samples 2 -o $OUT/f.csv"
flags artr-series $OUT/f.csv "$S" --context --horizon --samples --temp --top-k -t -s --quantiles --column
flags artr-series - "-m $SERIES_MODEL --csv $OUT/good.csv --samples 2 --eval" --split --stride
for f in $OUT/dir.gguf $OUT/empty $OUT/text.txt $OUT/no-such-file; do
    check artr-series $OUT/f.csv "artr-series -m $f" build/artr-series$SUFFIX -m $f --csv $OUT/good.csv --column load -o $OUT/f.csv
    check artr-series $OUT/f.csv "artr-series --csv $f" build/artr-series$SUFFIX -m $SERIES_MODEL --csv $f --column load -o $OUT/f.csv
done
check artr-series - "artr-series -o into a directory" build/artr-series$SUFFIX $S -o $OUT/dir.gguf

# ---- artr-image
I="-m $IMAGE_MODEL -n 1 -o $OUT/x.png"
flags artr-image $OUT/x.png "$I" -n --cols --cfg --temp --top-k -s --sjd-window -t --class --sjd-init --draft-policy
for f in $OUT/dir.gguf $OUT/empty $OUT/text.txt $OUT/no-such-file; do
    check artr-image $OUT/x.png "artr-image -m $f" build/artr-image$SUFFIX -m $f -o $OUT/x.png
    check artr-image - "artr-image --nll $f" build/artr-image$SUFFIX -m $IMAGE_MODEL --nll $f
done
check artr-image - "artr-image -o into a directory" build/artr-image$SUFFIX -m $IMAGE_MODEL -n 1 -o $OUT/dir.gguf

echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
