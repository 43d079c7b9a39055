#!/bin/sh
# CLI tests for artr-text: greedy output equals the library API's; every faster decoding
# flag gives the same greedy text as plain; bad input exits non-zero with one message.
# usage: tests/test_cli.sh MODEL DRAFT   (run from the repository root after make)
# Prints "N passed, N failed, N skipped" last; exits non-zero if any failed.
MODEL=${1:-models/shakespeare.gguf}
DRAFT=${2:-models/shakespeare-draft.gguf}
BIN=build/artr-text
OUT=build/cli
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

N=${N:-120}
PROMPT="ROMEO:"
build/cli_greedy "$MODEL" "$PROMPT" $N > $OUT/api.txt 2> $OUT/api.err || bad "library API greedy run"
$BIN -m "$MODEL" -p "$PROMPT" -n $N --temp 0 > $OUT/plain.txt 2> $OUT/plain.err
if [ $? -eq 0 ] && [ -s $OUT/plain.txt ] && cmp -s $OUT/api.txt $OUT/plain.txt; then ok "greedy CLI output = library API output"; else bad "greedy CLI output = library API output"; fi

if [ -f "$DRAFT" ]; then
    DRAFT_FLAGS="--draft $DRAFT --draft-n 4"
else
    skip "draft" "greedy --draft = plain: $DRAFT not found"
    DRAFT_FLAGS=""
fi
for flags in ${DRAFT_FLAGS:+"$DRAFT_FLAGS"} ${DRAFT_FLAGS:+"$DRAFT_FLAGS --draft-policy fixed --draft-p-min 0.6 --draft-min 2"} \
    "--self-spec 1 --draft-n 3" "--jacobi 6" "--spec-jacobi 6" "--lookup" "--lookup --draft-policy fixed --draft-max 12" \
    "--lookup --lookup-ngram 1 --draft-min 3"; do
    rm -f $OUT/fast.txt $OUT/fast.err
    # shellcheck disable=SC2086
    $BIN -m "$MODEL" -p "$PROMPT" -n $N --temp 0 $flags > $OUT/fast.txt 2> $OUT/fast.err
    if [ $? -eq 0 ] && cmp -s $OUT/plain.txt $OUT/fast.txt && grep -q "tokens/call" $OUT/fast.err; then
        ok "greedy $flags = plain ($(grep decoding $OUT/fast.err | sed 's/.*(\([0-9.]* tokens\/call\)).*/\1/'))"
    else
        bad "greedy $flags = plain"
    fi
done

# the same seed gives the same sampled text (both runs exit 0 with text), another seed
# other text; sampling with a draft runs. Each output file is deleted first, so one left
# by an earlier run cannot pass.
rm -f $OUT/s1.txt $OUT/s2.txt $OUT/s3.txt
$BIN -m "$MODEL" -p "$PROMPT" -n 60 -s 7 > $OUT/s1.txt 2>/dev/null
rc1=$?
$BIN -m "$MODEL" -p "$PROMPT" -n 60 -s 7 > $OUT/s2.txt 2>/dev/null
rc2=$?
$BIN -m "$MODEL" -p "$PROMPT" -n 60 -s 8 > $OUT/s3.txt 2>/dev/null
rc3=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ "$(wc -c < $OUT/s1.txt)" -gt ${#PROMPT} ] && cmp -s $OUT/s1.txt $OUT/s2.txt; then
    ok "same seed, same text ($(wc -c < $OUT/s1.txt) bytes)"
else
    bad "same seed, same text (exit $rc1 and $rc2, $(wc -c < $OUT/s1.txt) and $(wc -c < $OUT/s2.txt) bytes)"
fi
if [ $rc3 -eq 0 ] && [ "$(wc -c < $OUT/s3.txt)" -gt ${#PROMPT} ] && ! cmp -s $OUT/s1.txt $OUT/s3.txt; then
    ok "another seed, other text"
else
    bad "another seed, other text (exit $rc3, $(wc -c < $OUT/s3.txt) bytes)"
fi
if $BIN -m "$MODEL" -p "$PROMPT" -n 60 -s 7 ${DRAFT_FLAGS:---self-spec 1} > /dev/null 2>&1; then ok "sampling with a draft"; else bad "sampling with a draft"; fi
if $BIN -m "$MODEL" -p "$PROMPT" -n 600 -c 64 --sink 4 --ignore-eos > /dev/null 2>&1; then ok "--sink: 600 tokens through a 64-token cache"; else bad "--sink"; fi

# bad input: non-zero exit and exactly one line "artr-text: ..." on stderr (README), never
# a crash
expect_error() { # description, expected exit code, command...
    d=$1
    want=$2
    shift 2
    rm -f $OUT/err.out $OUT/err.txt
    "$@" > $OUT/err.out 2> $OUT/err.txt
    rc=$?
    if [ $rc -eq "$want" ] && [ "$(wc -l < $OUT/err.txt)" -eq 1 ] && grep -q "^artr-text: ." $OUT/err.txt; then
        ok "$d: exit $rc, $(head -1 $OUT/err.txt)"
    else
        bad "$d (exit $rc, expected $want; $(wc -l < $OUT/err.txt) lines: $(head -3 $OUT/err.txt))"
    fi
}
printf 'GGUF\003\000\000\000garbage' > $OUT/corrupt.gguf
expect_error "unknown flag" 2 $BIN -m "$MODEL" --frobnicate
expect_error "missing value" 2 $BIN -m "$MODEL" -n
expect_error "bad number" 2 $BIN -m "$MODEL" -n lots
expect_error "no model" 2 $BIN -p hi
expect_error "missing model file" 1 $BIN -m $OUT/no-such-model.gguf
expect_error "corrupt model file" 1 $BIN -m $OUT/corrupt.gguf
expect_error "jacobi while sampling" 2 $BIN -m "$MODEL" --jacobi 4 --temp 0.8
expect_error "prompt longer than the context" 1 $BIN -m "$MODEL" -c 16 -p "$(printf 'word %.0s' $(seq 1 200))"
expect_error "missing prompt file" 1 $BIN -m "$MODEL" -f $OUT/no-such-prompt.txt
expect_error "self-spec as deep as the model" 1 $BIN -m "$MODEL" --self-spec 1000 -n 4
expect_error "--draft-n above 16" 2 $BIN -m "$MODEL" --self-spec 1 --draft-n 17 -n 4
expect_error "--lookup with --draft" 2 $BIN -m "$MODEL" --lookup --self-spec 1 -n 4
expect_error "--draft-policy other" 2 $BIN -m "$MODEL" --lookup --draft-policy sometimes -n 4
expect_error "--draft-min above --draft-max" 2 $BIN -m "$MODEL" --lookup --draft-min 9 --draft-max 4 -n 4
expect_error "--draft-p-min above 1" 2 $BIN -m "$MODEL" --self-spec 1 --draft-p-min 1.5 -n 4
expect_error "--draft-max above 16" 2 $BIN -m "$MODEL" --lookup --draft-max 17 -n 4
expect_error "--jacobi above 16" 2 $BIN -m "$MODEL" --jacobi 17 --temp 0 -n 4
expect_error "--spec-jacobi above 16" 2 $BIN -m "$MODEL" --spec-jacobi 64 -n 4
expect_error "a window wider than the context's batch" 1 $BIN -m "$MODEL" -c 8 --jacobi 8 --temp 0 -p R -n 4
# a draft with another vocabulary (the 96-token fixture): the message names the draft
OTHER=tests/fixtures/hf_llama.gguf
expect_error "draft with another vocabulary" 1 $BIN -m "$MODEL" --draft $OTHER -n 4
if grep -q "draft '$OTHER'" $OUT/err.txt; then ok "the vocabulary message names the draft"; else bad "the vocabulary message names the draft: $(head -1 $OUT/err.txt)"; fi
# chat mode: a system prompt and two turns from stdin, then /exit; each reply follows a
# "> " prompt; the same input gives the same transcript; the errors are one line
printf 'Who art thou?\nAnd whence comest thou?\n/exit\n' > $OUT/chat.in
rm -f $OUT/chat1.txt $OUT/chat2.txt
$BIN -m "$MODEL" -cnv --chat-template chatml -sys "Speak as a king." -n 12 --temp 0 < $OUT/chat.in > $OUT/chat1.txt 2> $OUT/chat1.err
rc1=$?
$BIN -m "$MODEL" -cnv --chat-template chatml -sys "Speak as a king." -n 12 --temp 0 < $OUT/chat.in > $OUT/chat2.txt 2> $OUT/chat2.err
rc2=$?
turns=$(grep -c '^> ' $OUT/chat1.txt)
words=$(tr -d '> \n' < $OUT/chat1.txt | wc -c)
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ "$turns" -ge 2 ] && [ "$words" -gt 10 ] && cmp -s $OUT/chat1.txt $OUT/chat2.txt; then
    ok "chat mode: two turns answered after '> ' prompts ($words bytes of replies), the same transcript twice"
else
    bad "chat mode (exit $rc1/$rc2, $turns prompts, $words bytes; $(head -2 $OUT/chat1.err))"
fi
expect_error "-sys without -cnv" 2 $BIN -m "$MODEL" -sys "hi" -p x
expect_error "an unknown chat template" 1 sh -c "printf '/exit\n' | $BIN -m $MODEL -cnv --chat-template nosuch"
if grep -q "chatml" $OUT/err.txt; then ok "the template message lists the names"; else bad "the template message lists the names: $(head -1 $OUT/err.txt)"; fi
expect_error "chat mode on a model without a template" 1 sh -c "printf '/exit\n' | $BIN -m $MODEL -cnv"
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
