#!/bin/sh
# check.sh DIR N PROMPT... - run DIR/firmware_host and DIR/firmware.elf (under QEMU) with the
# same arguments and compare their stdout byte for byte. Prints "ok"/"FAIL" lines; exit 1
# on a mismatch or a failed run. Called by `make test-firmware`; TIMEOUT (seconds) bounds
# the QEMU run, MACHINE picks the board (default mps2-an386).
set -u
dir=$1
shift
here=$(dirname "$0")
status=0

"./$dir/firmware_host" "$@" > "$dir/host.out" 2> "$dir/host.err"
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL firmware host build exited with $rc:"; cat "$dir/host.err"; exit 1
fi
start=$(date +%s.%N)
TIMEOUT=${TIMEOUT:-120} "$here/qemu-run.sh" "$dir/firmware.elf" "$@" > "$dir/qemu.out" 2> "$dir/qemu.err"
rc=$?
end=$(date +%s.%N)
wall=$(echo "$start $end" | awk '{printf "%.2f", $2 - $1}')
case $rc in
0) ;;
124) echo "FAIL firmware under QEMU: timed out after ${TIMEOUT:-120} s"; status=1 ;;
99) echo "FAIL firmware under QEMU: CPU fault"; status=1 ;;
*) echo "FAIL firmware under QEMU exited with $rc"; status=1 ;;
esac
[ $status -eq 0 ] || { cat "$dir/qemu.err"; exit 1; }

sed 's/^/  host: /' "$dir/host.err" | grep -v ' model: \| time: '
sed 's/^/  qemu: /' "$dir/qemu.err" | grep -v ' model: '
echo "  qemu wall time (start, load, run, exit): $wall s"
sed 's/^/  /' "$dir/qemu.out"
if cmp -s "$dir/host.out" "$dir/qemu.out"; then
    echo "ok firmware: Cortex-M4 under QEMU prints exactly what the host build prints"
else
    echo "FAIL firmware: output differs from the host build's"
    diff "$dir/host.out" "$dir/qemu.out" | sed 's/^/  /'
    status=1
fi
# Informational: whether every logit was bit-identical too (libm's expf/sinf/cosf may
# differ by one ulp between newlib and glibc; greedy ids only change on a near tie).
h1=$(sed -n 's/^logits: hash \([0-9a-f]*\).*/\1/p' "$dir/host.err")
h2=$(sed -n 's/^logits: hash \([0-9a-f]*\).*/\1/p' "$dir/qemu.err")
if [ -n "$h1" ] && [ "$h1" = "$h2" ]; then
    echo "  logits: bit-identical on host and board ($h1)"
else
    echo "  logits: NOT bit-identical (host $h1, board $h2): libm rounding; the greedy ids above are what is compared"
fi
exit $status
