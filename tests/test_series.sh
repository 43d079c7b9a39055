#!/bin/sh
# Tests for artr-series (examples/series.c): its tokenization, quantiles, metrics and the
# shipped model's loss against PyTorch (build/series_check), then the CLI on a synthetic CSV
# written here: reproducible with a seed, monotone quantiles, CSV and SVG output, and bad
# input that exits non-zero with one message. ETTh1 checks run when ../shared/ has it.
# usage: tests/test_series.sh [MODEL]   (run from the repository root after make)
# Prints "N passed, N failed, N skipped" last; exits non-zero if any failed.
MODEL=${1:-models/etth1.gguf}
BIN=${BIN:-build/artr-series}
OUT=build/series
ETTH1=../shared/data/ETTh1.csv
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

# the unit checks print their own ok/FAIL lines; count them here
${CHECK:-build/series_check} "$MODEL" tests/fixtures/series/val.bin > $OUT/check.txt 2>&1
rc=$?
cat $OUT/check.txt
pass=$((pass + $(grep -c '^ok' $OUT/check.txt)))
fail=$((fail + $(grep -c '^FAIL' $OUT/check.txt)))
grep '^skip' $OUT/check.txt > $OUT/check-skips.txt
while read -r line; do skip "series_check" "${line#skip  }"; done < $OUT/check-skips.txt
if [ $rc -ne 0 ] && ! grep -q '^FAIL' $OUT/check.txt; then bad "series_check exited $rc"; fi

# hourly synthetic data: a daily cycle plus noise, and a slow trend
awk 'BEGIN { srand(3); print "date,load,temp";
             for (i = 0; i < 600; i++)
                 printf "2020-01-%02d %02d:00:00,%.4f,%.4f\n", 1 + int(i / 24), i % 24,
                        10 + 3 * sin(6.2831853 * i / 24) + rand() * 0.5, 20 + i * 0.01 + rand() }' > $OUT/good.csv

if [ ! -f "$MODEL" ]; then
    skip "series-cli" "CLI tests: $MODEL not found (tools/train_series.py makes it)"
    echo "$pass passed, $fail failed, $skipped skipped"
    [ $fail -eq 0 ]
    exit
fi

# each run first deletes the files it writes (-o, --plot), so an earlier run's cannot pass
run() {
    for a in "$@"; do case $a in $OUT/*.csv | $OUT/*.svg) rm -f "$a" ;; esac; done
    $BIN -m "$MODEL" --csv $OUT/good.csv --horizon 24 --samples 32 "$@"
}
run --column load --seed 7 -o $OUT/a.csv --plot $OUT/a.svg 2> $OUT/a.err
rc=$?
if [ $rc -eq 0 ] && [ "$(head -1 $OUT/a.csv)" = "timestamp,mean,q0.1,q0.5,q0.9" ] && [ "$(wc -l < $OUT/a.csv)" -eq 25 ]; then
    ok "forecast CSV: header and 24 rows"
else
    bad "forecast CSV (exit $rc: $(head -1 $OUT/a.err))"
fi
if [ "$(sed -n 2p $OUT/a.csv | cut -d, -f1)" = "2020-01-26 00:00:00" ] && [ "$(tail -1 $OUT/a.csv | cut -d, -f1)" = "2020-01-26 23:00:00" ]; then
    ok "timestamps continue the series' hourly step"
else
    bad "timestamps continue the series' hourly step ($(sed -n 2p $OUT/a.csv | cut -d, -f1))"
fi
run --column load --seed 7 -o $OUT/b.csv 2>/dev/null
if [ -s $OUT/a.csv ] && cmp -s $OUT/a.csv $OUT/b.csv; then ok "same seed, identical forecast"; else bad "same seed, identical forecast"; fi
run --column load --seed 8 -o $OUT/c.csv 2>/dev/null
if [ -s $OUT/a.csv ] && [ -s $OUT/c.csv ] && ! cmp -s $OUT/a.csv $OUT/c.csv; then ok "another seed, another forecast"; else bad "another seed, another forecast"; fi
run --column load --seed 7 -t 1 -o $OUT/t1.csv 2>/dev/null
run --column load --seed 7 -t 2 -o $OUT/t2.csv 2>/dev/null
if [ -s $OUT/a.csv ] && cmp -s $OUT/t1.csv $OUT/a.csv && cmp -s $OUT/t2.csv $OUT/a.csv; then ok "-t 1 and -t 2 give the same forecast"; else bad "thread count changes the forecast"; fi
run --column 1 --seed 7 > $OUT/stdout.csv 2>/dev/null
if [ -s $OUT/a.csv ] && cmp -s $OUT/stdout.csv $OUT/a.csv; then ok "--column 1 = --column load; no -o writes the CSV to stdout"; else bad "--column by index / stdout"; fi
run --column load --seed 9 --quantiles 0.95,0.05,0.25,0.5,0.75,0.1,0.9 -o $OUT/q.csv 2>/dev/null
if [ "$(head -1 $OUT/q.csv)" = "timestamp,mean,q0.05,q0.1,q0.25,q0.5,q0.75,q0.9,q0.95" ] &&
   awk -F, 'NR > 1 { for (i = 4; i <= NF; i++) if ($i + 0 < $(i - 1) + 0) bad = 1; n++ } END { exit bad || n != 24 }' $OUT/q.csv; then
    ok "quantile columns sorted and monotone on every row (7 quantiles)"
else
    bad "quantile columns sorted and monotone on every row"
fi
if awk -F, 'NR > 1 { if ($3 + 0 < 5 || $5 + 0 > 15 || $4 + 0 > $5 + 0) bad = 1 } END { exit bad }' $OUT/a.csv; then
    ok "forecast of a 10 +- 3 daily cycle stays in [5, 15]"
else
    bad "forecast of a 10 +- 3 daily cycle stays in [5, 15]"
fi
if head -c 4 $OUT/a.svg | grep -q '<svg' && tail -1 $OUT/a.svg | grep -q '</svg>' && grep -q '<polygon' $OUT/a.svg && [ "$(grep -c '<polyline' $OUT/a.svg)" -eq 2 ]; then
    ok "SVG plot: history and median lines, interval band"
else
    bad "SVG plot"
fi
cut -d, -f2 $OUT/good.csv > $OUT/notime.csv
if $BIN -m "$MODEL" --csv $OUT/notime.csv --column load --horizon 3 --samples 4 > $OUT/nt.csv 2>/dev/null && [ "$(sed -n 2p $OUT/nt.csv | cut -d, -f1)" = "601" ]; then
    ok "no timestamp column: rows are numbered"
else
    bad "no timestamp column: rows are numbered"
fi

# bad input: non-zero exit and exactly one line naming the problem, never a crash
expect_error() { # description, expected exit code, command...
    d=$1
    want=$2
    shift 2
    rm -f $OUT/err.out $OUT/err.txt $OUT/ok.csv
    "$@" > $OUT/err.out 2> $OUT/err.txt
    rc=$?
    if [ $rc -eq "$want" ] && [ "$(wc -l < $OUT/err.txt)" -eq 1 ] && grep -q "^artr-series:" $OUT/err.txt; then
        ok "$d: exit $rc, $(cat $OUT/err.txt)"
    else
        bad "$d (exit $rc, expected $want; stderr: $(head -3 $OUT/err.txt))"
    fi
}
head -40 $OUT/good.csv | awk -F, 'NR == 30 { $2 = "abc" } { print }' OFS=, > $OUT/text.csv
head -40 $OUT/good.csv | awk -F, 'NR == 30 { $2 = "" } { print }' OFS=, > $OUT/gap.csv
head -40 $OUT/good.csv | awk -F, 'NR == 30 { $2 = "NaN" } { print }' OFS=, > $OUT/nan.csv
head -40 $OUT/good.csv | awk -F, 'NR == 30 { print $1 "," $2; next } { print }' > $OUT/ragged.csv
head -40 $OUT/good.csv | awk 'NR == 30 { print "" } { print }' > $OUT/blank.csv
head -11 $OUT/good.csv > $OUT/short.csv
head -1 $OUT/good.csv > $OUT/header.csv
: > $OUT/empty.csv
printf 'date,load\n2020-01-01,1\0\n' > $OUT/binary.csv
awk -F, 'NR > 1 { $2 = (NR % 2) ? "1e308" : "-1e308" } { print }' OFS=, $OUT/good.csv > $OUT/huge.csv
awk -F, 'NR > 1 { $2 = (NR % 2) ? "3e38" : "-3e38" } { print }' OFS=, $OUT/good.csv > $OUT/big.csv
expect_error "missing column" 1 $BIN -m "$MODEL" --csv $OUT/good.csv --column power
expect_error "column index out of range" 1 $BIN -m "$MODEL" --csv $OUT/good.csv --column 3
expect_error "timestamp column as the series" 1 $BIN -m "$MODEL" --csv $OUT/good.csv --column date
expect_error "non-numeric cell" 1 $BIN -m "$MODEL" --csv $OUT/text.csv --column load
expect_error "NaN gap (empty cell)" 1 $BIN -m "$MODEL" --csv $OUT/gap.csv --column load
expect_error "NaN gap (NaN)" 1 $BIN -m "$MODEL" --csv $OUT/nan.csv --column load
expect_error "missing field" 1 $BIN -m "$MODEL" --csv $OUT/ragged.csv --column load
expect_error "blank line inside the data" 1 $BIN -m "$MODEL" --csv $OUT/blank.csv --column load
expect_error "too short" 1 $BIN -m "$MODEL" --csv $OUT/short.csv --column load
expect_error "header only" 1 $BIN -m "$MODEL" --csv $OUT/header.csv --column load
expect_error "empty file" 1 $BIN -m "$MODEL" --csv $OUT/empty.csv --column load
expect_error "NUL byte in the CSV" 1 $BIN -m "$MODEL" --csv $OUT/binary.csv --column load
expect_error "missing CSV file" 1 $BIN -m "$MODEL" --csv $OUT/no-such.csv --column load
expect_error "missing model file" 1 $BIN -m $OUT/no-such.gguf --csv $OUT/good.csv --column load
expect_error "not a series model" 1 $BIN -m tests/fixtures/llama.gguf --csv $OUT/good.csv --column load
expect_error "values of +-1e308 (their mean |x| overflows)" 1 $BIN -m "$MODEL" --csv $OUT/huge.csv --column load --samples 4 -o $OUT/huge-out.csv
if [ ! -e $OUT/huge-out.csv ]; then ok "no forecast file written after the overflow"; else bad "a forecast file written after the overflow"; fi
expect_error "values of +-3e38 (the float forecast overflows)" 1 $BIN -m "$MODEL" --csv $OUT/big.csv --column load --samples 4
expect_error "--eval on values of +-1e308" 1 $BIN -m "$MODEL" --csv $OUT/huge.csv --eval --split 400,100,100 --context 64 --samples 2
expect_error "--context below README's 32" 2 $BIN -m "$MODEL" --csv $OUT/good.csv --column load --context 2
expect_error "--context 31" 2 $BIN -m "$MODEL" --csv $OUT/good.csv --column load --context 31
expect_error "context + horizon beyond the model" 1 $BIN -m "$MODEL" --csv $OUT/good.csv --column load --context 600
expect_error "unwritable -o" 1 $BIN -m "$MODEL" --csv $OUT/good.csv --column load --samples 2 -o $OUT/no-such-dir/f.csv
expect_error "unwritable --plot" 1 $BIN -m "$MODEL" --csv $OUT/good.csv --column load --samples 2 -o $OUT/ok.csv --plot $OUT/no-such-dir/f.svg
expect_error "--eval on too few rows" 1 $BIN -m "$MODEL" --csv $OUT/good.csv --eval
expect_error "unknown flag" 2 $BIN -m "$MODEL" --csv $OUT/good.csv --column load --frobnicate
expect_error "missing value" 2 $BIN -m "$MODEL" --csv $OUT/good.csv --column
expect_error "bad number" 2 $BIN -m "$MODEL" --csv $OUT/good.csv --column load --horizon lots
expect_error "zero samples" 2 $BIN -m "$MODEL" --csv $OUT/good.csv --column load --samples 0
expect_error "bad quantiles" 2 $BIN -m "$MODEL" --csv $OUT/good.csv --column load --quantiles 0.1,1.5
expect_error "bad --split" 2 $BIN -m "$MODEL" --csv $OUT/good.csv --eval --split 10,20
expect_error "no --column" 2 $BIN -m "$MODEL" --csv $OUT/good.csv
expect_error "no --csv" 2 $BIN -m "$MODEL" --column load
expect_error "no model" 2 $BIN --csv $OUT/good.csv --column load

if [ -f "$ETTH1" ]; then
    if $BIN -m "$MODEL" --csv "$ETTH1" --column OT --samples 20 > $OUT/etth1.csv 2>/dev/null && [ "$(wc -l < $OUT/etth1.csv)" -eq 25 ]; then
        ok "ETTh1 OT: forecast"
    else
        bad "ETTh1 OT: forecast"
    fi
    $BIN -m "$MODEL" --csv "$ETTH1" --column OT --eval --stride 480 --samples 8 > $OUT/eval.txt 2>/dev/null
    if [ $? -eq 0 ] && grep -q '^OT  *6 ' $OUT/eval.txt && grep -q '^all ' $OUT/eval.txt; then
        ok "ETTh1 OT: --eval (6 windows) $(grep '^all' $OUT/eval.txt | tr -s ' ')"
    else
        bad "ETTh1 OT: --eval"
    fi
else
    skip_shared "etth1" "ETTh1 forecast and --eval because $ETTH1 is not there"
fi
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
