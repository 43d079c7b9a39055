#!/bin/sh
# The MinGW-w64 builds under wine (make test-windows builds them first): artr-text.exe
# and artr-simple.exe give the native builds' text for the same flags and seed; the suite built with
# ARTR_NO_MMAP (fread) passes its file-loading tests; the whole suite (files mapped with
# MapViewOfFile, which test_load_file_mapped checks) passes.
# usage: tests/test_windows.sh WIN_DIR MODEL [DRAFT]   (run from the repository root;
# WINE, WINEPREFIX and WINEDEBUG come from the environment). The Windows stdout is in
# text mode (\n becomes \r\n), so the comparison drops \r.
# Prints "N passed, N failed, N skipped" last (the checks here plus both suite runs' tests); exits
# non-zero if any failed.
W=${1:-build/win}
MODEL=${2:-models/shakespeare.gguf}
DRAFT=${3:-models/shakespeare-draft.gguf}
WINE=${WINE:-wine}
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

# The first start of a fresh prefix sets it up (about 20 s); do it apart from the checks.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "initialising the wine prefix $WINEPREFIX"
    $WINE wineboot -i > /dev/null 2>&1
fi

# same_text PROG ARGS...: build/PROG and $W/PROG.exe, same arguments, exit 0 and the same
# non-empty text (the Windows run's \r dropped).
same_text() {
    prog=$1
    shift
    "build/$prog" "$@" > $W/native.txt 2> $W/native.err
    rc_n=$?
    $WINE "$W/$prog.exe" "$@" > $W/win.raw 2> $W/win.err
    rc_w=$?
    tr -d '\r' < $W/win.raw > $W/win.txt
    if [ $rc_n -eq 0 ] && [ $rc_w -eq 0 ] && [ -s $W/native.txt ] && cmp -s $W/native.txt $W/win.txt; then
        ok "$prog.exe $* = native $prog"
    else
        bad "$prog.exe $* = native $prog (see $W/native.txt, $W/win.txt, $W/win.err)"
    fi
}
PROMPT="ROMEO:"
if [ -f "$DRAFT" ]; then DRAFT_FLAGS="--temp 0 --draft $DRAFT --draft-n 4"; else DRAFT_FLAGS="--temp 0 --self-spec 1"; fi
for flags in "--temp 0" "$DRAFT_FLAGS" "-s 7" "-s 7 --temp 0.8 --top-k 40"; do
    # shellcheck disable=SC2086
    same_text artr-text -m "$MODEL" -p "$PROMPT" -n 200 $flags
done
# The first program (examples/simple.c).
same_text artr-simple "$MODEL" "$PROMPT"
$WINE $W/artr-text.exe -m $W/no-such-model.gguf > /dev/null 2> $W/win.err
rc_w=$?
if [ $rc_w -eq 1 ] && grep -q "cannot open.*file not found" $W/win.err; then
    ok "missing model: exit 1, $(tr -d '\r' < $W/win.err | head -1)"
else
    bad "missing model (exit $rc_w, expected 1 and 'file not found')"
fi

# Both suite runs print their tests and end with "N passed, N failed, N skipped", which is
# counted (an unexpected skip there makes the suite exit 1 with 0 failed: a failure here).
suite() { # description, exe, test names...
    d=$1
    exe=$2
    shift 2
    $WINE "$exe" "$@" > $W/suite.raw 2>&1
    rc=$?
    tr -d '\r' < $W/suite.raw > $W/suite.txt
    cat $W/suite.txt
    line=$(tail -n 1 $W/suite.txt)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1/p')
    f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\2/p')
    s=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\3/p')
    if [ -z "$p" ] || [ -z "$f" ] || [ -z "$s" ]; then
        bad "$d: no 'N passed, N failed, N skipped' line (crashed?)"
    else
        pass=$((pass + p))
        fail=$((fail + f))
        skipped=$((skipped + s))
        echo "$d: $line"
        if [ "$f" -eq 0 ] && [ $rc -ne 0 ]; then bad "$d: exit status $rc"; fi
    fi
}
suite "suite with ARTR_NO_MMAP (file loading)" $W/test-nommap.exe \
    test_gguf test_llama2c test_shared_tokenizer test_model_no_leaks test_load_file \
    test_fuzz_regressions test_tok_llama2c
suite "suite" $W/test.exe
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
