#!/bin/bash
# .ci/toolchains.sh: before any suite runs, compile and run a one-line program with each
# toolchain .ci/run installs (host, Cortex-M4, RISC-V, AArch64, Windows), so a missing
# package fails here, named, instead of as a compiler error deep inside a suite.
# Exit status: the number of toolchains that failed. Run from the repository root.
set -u
dir=build/toolchains
mkdir -p "$dir"
printf '#include <stdio.h>\nint main(void) { printf("hello from %%s\\n", TARGET); return 0; }\n' \
    > "$dir/hello.c"
failed=0

# check NAME PACKAGES BINARY COMPILE... -- RUN...: compile, run, expect "hello from NAME".
check() {
    local name=$1 pkgs=$2 bin=$3
    shift 3
    local compile=() run=()
    while [ "$1" != "--" ]; do compile+=("$1"); shift; done
    shift
    run=("$@")
    local log="$dir/$bin.log"
    if ! command -v "${compile[0]}" >/dev/null 2>&1; then
        echo "FAIL toolchain $name: ${compile[0]} not found (apt-get install $pkgs)"
        failed=$((failed + 1)); return
    fi
    if ! "${compile[@]}" -DTARGET="\"$name\"" -o "$dir/$bin" "$dir/hello.c" >"$log" 2>&1; then
        echo "FAIL toolchain $name: ${compile[0]} cannot build a one-line program (apt-get install $pkgs):"
        sed 's/^/  /' "$log" | head -n 5
        failed=$((failed + 1)); return
    fi
    if ! command -v "${run[0]}" >/dev/null 2>&1; then
        echo "FAIL toolchain $name: ${run[0]} not found (apt-get install $pkgs)"
        failed=$((failed + 1)); return
    fi
    local out
    out=$("${run[@]}" "$dir/$bin" 2>&1 | tr -d '\r')
    if ! printf '%s\n' "$out" | grep -qx "hello from $name"; then
        echo "FAIL toolchain $name: the program did not run under ${run[0]} (apt-get install $pkgs):"
        printf '%s\n' "$out" | sed 's/^/  /' | head -n 5
        failed=$((failed + 1)); return
    fi
    echo "ok toolchain $name: ${compile[0]} builds it, ${run[*]} runs it"
}

fw=examples/firmware
check host "build-essential" hello-host \
    cc -O2 -- env --
check cortex-m4 "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm" hello-m4.elf \
    arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 \
    --specs=nano.specs --specs=rdimon.specs -nostartfiles -T $fw/mps2.ld $fw/startup.c -- \
    env TIMEOUT=30 sh $fw/qemu-run.sh
# picolibc's semihosting crt0 on QEMU's virt board (RAM at 0x80000000).
check riscv32 "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc" hello-rv32.elf \
    riscv64-unknown-elf-gcc -march=rv32imafc -mabi=ilp32f --specs=picolibc.specs \
    --oslib=semihost --crt0=semihost -Wl,--defsym=__flash=0x80000000 \
    -Wl,--defsym=__flash_size=0x400000 -Wl,--defsym=__ram=0x80400000 \
    -Wl,--defsym=__ram_size=0x400000 -O2 -- \
    timeout 30 qemu-system-riscv32 -M virt -cpu rv32 -display none -bios none -monitor none \
    -serial none -semihosting-config enable=on,target=native -kernel
check aarch64 "gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static" hello-a64 \
    aarch64-linux-gnu-gcc -static -O2 -- qemu-aarch64-static
# The first wine start creates the prefix (build/wine, shared with make test-windows).
check windows "gcc-mingw-w64-x86-64 wine wine64" hello-win.exe \
    x86_64-w64-mingw32-gcc -O2 -- \
    env WINEPREFIX="$PWD/build/wine" WINEDEBUG=-all timeout 300 wine

exit $failed
