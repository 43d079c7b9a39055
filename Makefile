# artr: make | make run | make test | make test-simple | make test-series | make test-asan | make test-scalar | make test-neon | make fuzz | make clean
#       make test-windows (MinGW-w64 builds under wine)
#       make test-firmware (Cortex-M4 under QEMU vs the host) | make check-riscv
#       make test-image | make bench-image (artr-image on models/fashion.gguf)
#       make bench | make bench-kernels | make bench-tokenize | make install PREFIX=/usr/local | make test-package
# Everything builds into build/. Tests run from the repository root (they read tests/fixtures).

CC       ?= cc
CXX      ?= c++
CFLAGS   ?= -O2 -march=native
WARN     := -std=c99 -Wall -Wextra -pedantic
LDLIBS   := -lm
# POSIX names (dirent, mmap) for the test programs; the header itself needs none.
TESTDEFS := -D_DEFAULT_SOURCE
B        := build
ARM_CC   ?= arm-none-eabi-gcc
ARM_NM   ?= arm-none-eabi-nm
ARM_CPU  := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
# The sanitizer build prefers clang; gcc works too (make test-asan ASAN_CC=gcc).
ASAN_CC  ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo gcc)
ASAN     := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The sanitizer build takes CFLAGS' -march so the SIMD kernels run under it too.
ASAN_ARCH ?= $(filter -march=% -mcpu=%,$(CFLAGS))
# make test-neon: the suite cross-compiled for AArch64 (NEON kernels), run under qemu.
# Emulation is slow, so it runs the kernel, number-format and forward tests
# (NEON_TESTS= runs everything, about 5 minutes).
NEON_CC  ?= aarch64-linux-gnu-gcc
QEMU_AARCH64 ?= qemu-aarch64-static
NEON_TESTS ?= test_f16 test_f32_to_f16 test_bf16 test_dequant test_kernel_table test_dot test_forward test_decoding_greedy
FUZZ_CC  ?= clang
FUZZ_SECONDS ?= 60
FIXTURES := $(wildcard tests/fixtures/*.gguf tests/fixtures/*.bin)
REGRESS  := $(wildcard tests/fuzz/regress/*)
TOK_CORPUS  := $(wildcard tests/fuzz/tokenize/*)
CHAT_CORPUS := $(wildcard tests/fuzz/chat/*)
TEST_SRC := tests/main.c tests/harness.h tests/fuzz_load.c $(wildcard tests/test_*.c) artr.h \
            tools/quantize.c tools/bin2c.c
TOOLS    := $(B)/artr-text $(B)/artr-image $(B)/artr-series $(B)/artr-inspect $(B)/artr-quantize \
            $(B)/artr-bin2c $(B)/artr-bench $(B)/artr-stream-eval
MODEL    ?= models/shakespeare.gguf
DRAFT    ?= models/shakespeare-draft.gguf
IMAGE_MODEL ?= models/fashion.gguf
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := $(shell sed -n 's/^\#define ARTR_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' artr.h | paste -sd. -)
VMAJOR   := $(firstword $(subst ., ,$(VERSION)))
OPENMP   ?= $(shell echo 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo -fopenmp)


.PHONY: test-cli test-cli-bad test-simple test-image bench-image test-series
.PHONY: all run test test-asan test-scalar test-neon test-windows bench-kernels check-compile check-cortexm check-readme \
        check-bin2c fuzz fuzz-merge bench bench-tokenize clean install test-package check-package test-firmware \
        check-riscv firmware firmware-size FORCE

all: $(TOOLS) $(B)/artr-simple

$(B):
	@mkdir -p $(B)

# OPENMP is set below; the CLIs and tools use every core they are given.
$(B)/artr-text: examples/text.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(OPENMP) -D_POSIX_C_SOURCE=200809L -o $@ examples/text.c $(LDLIBS)

# The first program to copy: plain C99 and stdio, no POSIX, no examples/cli.h.
$(B)/artr-simple: examples/simple.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/simple.c $(LDLIBS)

$(B)/artr-image: examples/image.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(OPENMP) -D_POSIX_C_SOURCE=200809L -o $@ examples/image.c $(LDLIBS)

$(B)/artr-series: examples/series.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(OPENMP) -D_POSIX_C_SOURCE=200809L -o $@ examples/series.c $(LDLIBS)

$(B)/artr-bench: tools/bench.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(OPENMP) -D_POSIX_C_SOURCE=200809L -o $@ tools/bench.c $(LDLIBS)

$(B)/artr-stream-eval: tools/stream_eval.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(OPENMP) -o $@ tools/stream_eval.c $(LDLIBS)

$(B)/artr-inspect: tools/inspect.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/inspect.c $(LDLIBS)

$(B)/artr-quantize: tools/quantize.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/quantize.c $(LDLIBS)

$(B)/artr-bin2c: tools/bin2c.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/bin2c.c $(LDLIBS)

# The quickstart: generate text with the shipped model.
run: $(B)/artr-text
	./$(B)/artr-text -m $(MODEL) -p "ROMEO:" -n 200

# Speed, in one run per command (ratios are what to compare on a shared machine).
bench: $(B)/artr-bench $(B)/artr-stream-eval
	./$(B)/artr-bench -m $(MODEL)
	./$(B)/artr-bench -m $(MODEL) --decode --draft $(DRAFT) --self-spec 2 -n 256 -k 4 -w 8
	./$(B)/artr-bench -m $(MODEL) --decode --draft $(DRAFT) -n 256 -k 4 -w 8 --temp 0.8

# Image tokens: plain sampling vs speculative Jacobi decoding with CFG, same classes and
# seeds, one run, one thread, SJD with the adaptive policy and with its fixed window
# (README "Images"); tools/eval_image.py scores the same run.
bench-image: $(B)/artr-image
	./$(B)/artr-image -m $(IMAGE_MODEL) --bench -n 500 -s 1000 -t 1
	./$(B)/artr-image -m $(IMAGE_MODEL) --bench -n 500 -s 1000 -t 1 --draft-policy fixed

# ---- tests ----------------------------------------------------------------------

# The main suite builds with OpenMP (when the compiler has it) so thread-count
# independence is tested for real; the sanitizer and scalar builds run single-threaded.

$(B)/test: $(TEST_SRC) | $(B)
	$(CC) $(WARN) $(CFLAGS) $(OPENMP) $(TESTDEFS) -o $@ tests/main.c $(LDLIBS)

$(B)/test-asan: $(TEST_SRC) | $(B)
	$(ASAN_CC) $(WARN) $(ASAN) $(ASAN_ARCH) $(TESTDEFS) -o $@ tests/main.c $(LDLIBS)

# Also a small tokenizer window (ARTR_TOKENIZE_RUN=32): its sliding path far more often.
$(B)/test-scalar: $(TEST_SRC) | $(B)
	$(CC) $(WARN) $(CFLAGS) $(TESTDEFS) -DARTR_NO_SIMD -DARTR_NO_MMAP -DARTR_TOKENIZE_RUN=32 -o $@ tests/main.c $(LDLIBS)

# The suite as a user's plain `cc -O2` build compiles it (no -march): on x86 the AVX2
# kernels are then chosen at run time (test_kernels_choice checks which ran).
PORTABLE_CFLAGS ?= -O2
$(B)/test-portable: $(TEST_SRC) | $(B)
	$(CC) $(WARN) $(PORTABLE_CFLAGS) $(OPENMP) $(TESTDEFS) -o $@ tests/main.c $(LDLIBS)

$(B)/fuzz_replay: tests/fuzz_load.c artr.h tests/fuzz_replay.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -DARTR_FUZZ_REPLAY -o $@ tests/fuzz_load.c $(LDLIBS)

$(B)/fuzz_replay-asan: tests/fuzz_load.c artr.h tests/fuzz_replay.h | $(B)
	$(ASAN_CC) $(WARN) $(ASAN) -DARTR_FUZZ_REPLAY -o $@ tests/fuzz_load.c $(LDLIBS)

$(B)/fuzz_%_replay: tests/fuzz_%.c artr.h tests/fuzz_replay.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -DARTR_FUZZ_REPLAY -o $@ $< $(LDLIBS)

$(B)/fuzz_%_replay-asan: tests/fuzz_%.c artr.h tests/fuzz_replay.h | $(B)
	$(ASAN_CC) $(WARN) $(ASAN) -DARTR_FUZZ_REPLAY -o $@ $< $(LDLIBS)

$(B)/cli_greedy: tests/cli_greedy.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ tests/cli_greedy.c $(LDLIBS)

# artr-text against the library API, every decoding flag, bad input (tests/test_cli.sh).
# Runs on the shipped models; CLI_MODEL/CLI_DRAFT/CLI_N pick others.
CLI_MODEL ?= $(MODEL)
CLI_DRAFT ?= $(DRAFT)
test-cli: $(B)/artr-text $(B)/cli_greedy
	@if [ -f "$(CLI_MODEL)" ]; then N=$(or $(CLI_N),120) sh tests/test_cli.sh $(CLI_MODEL) $(CLI_DRAFT); \
	else N=40 sh tests/test_cli.sh tests/fixtures/conv/llama_hf.gguf tests/fixtures/conv/llama_hf_q8_0.gguf; fi

# artr-simple on the shipped model, and on bad input (tests/test_simple.sh); it also
# compiles as C++ (-Werror, as tests/compile_cpp.cpp).
$(B)/artr-simple-cpp: examples/simple.c artr.h | $(B)
	$(CXX) -x c++ -Wall -Wextra -pedantic -Werror -O2 -o $@ examples/simple.c $(LDLIBS)

test-simple: $(B)/artr-simple $(B)/artr-simple-cpp
	@sh tests/test_simple.sh $(MODEL)

$(B)/png_check: tests/png_check.c | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ tests/png_check.c

# artr-image on the shipped image model: loss = PyTorch's, valid PNG, seeds, greedy SJD =
# plain, bad input (tests/test_image.sh).
test-image: $(B)/artr-image $(B)/png_check
	sh tests/test_image.sh $(IMAGE_MODEL)


# artr-series: its tokenization, metrics and the shipped model's loss against PyTorch
# (tests/series_check.c), then the CLI on synthetic CSVs (tests/test_series.sh).
SERIES_MODEL ?= models/etth1.gguf
$(B)/series_check: tests/series_check.c examples/series.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -D_POSIX_C_SOURCE=200809L -o $@ tests/series_check.c $(LDLIBS)

test-series: $(B)/artr-series $(B)/series_check
	@sh tests/test_series.sh $(SERIES_MODEL)

# The whole suite; the last line printed is "N passed, N failed, N skipped".
test: check-compile check-bin2c check-package test-simple test-cli test-cli-bad test-image test-series test-windows $(B)/fuzz_replay \
      $(B)/fuzz_tokenize_replay $(B)/fuzz_chat_replay $(B)/test $(B)/test-portable
	./$(B)/fuzz_replay $(FIXTURES) $(REGRESS)
	./$(B)/fuzz_tokenize_replay $(TOK_CORPUS)
	./$(B)/fuzz_chat_replay $(CHAT_CORPUS)
	./$(B)/test-portable test_kernel test_dot test_vec test_forward test_decoding
	./$(B)/test

$(B)/artr-simple-asan: examples/simple.c artr.h | $(B)
	$(ASAN_CC) $(WARN) $(ASAN) $(ASAN_ARCH) -o $@ examples/simple.c $(LDLIBS)

$(B)/artr-text-asan: examples/text.c examples/cli.h artr.h | $(B)
	$(ASAN_CC) $(WARN) $(ASAN) $(ASAN_ARCH) -D_POSIX_C_SOURCE=200809L -o $@ examples/text.c $(LDLIBS)

$(B)/artr-series-asan: examples/series.c examples/cli.h artr.h | $(B)
	$(ASAN_CC) $(WARN) $(ASAN) $(ASAN_ARCH) -D_POSIX_C_SOURCE=200809L -o $@ examples/series.c $(LDLIBS)

$(B)/artr-image-asan: examples/image.c examples/cli.h artr.h | $(B)
	$(ASAN_CC) $(WARN) $(ASAN) $(ASAN_ARCH) -D_POSIX_C_SOURCE=200809L -o $@ examples/image.c $(LDLIBS)

CLI_ASAN := $(B)/artr-text-asan $(B)/artr-series-asan $(B)/artr-image-asan

# Every CLI flag with missing, negative, huge, non-numeric values, unreadable and empty
# files, -c beyond the model (tests/test_cli_bad.sh); plain builds here, sanitizer builds
# in make test-asan.
test-cli-bad: $(B)/artr-text $(B)/artr-series $(B)/artr-image
	@sh tests/test_cli_bad.sh

# artr-simple's error paths too: LeakSanitizer (clang: libclang-rt-14-dev) sees any leak;
# the CLIs on bad input (tests/test_cli_bad.sh on the sanitizer builds).
test-asan: $(B)/fuzz_replay-asan $(B)/fuzz_tokenize_replay-asan $(B)/fuzz_chat_replay-asan \
           $(B)/test-asan $(B)/artr-simple-asan $(CLI_ASAN)
	./$(B)/fuzz_replay-asan $(FIXTURES) $(REGRESS)
	./$(B)/fuzz_tokenize_replay-asan $(TOK_CORPUS)
	./$(B)/fuzz_chat_replay-asan $(CHAT_CORPUS)
	@BIN=$(B)/artr-simple-asan sh tests/test_simple.sh $(MODEL)
	@SUFFIX=-asan sh tests/test_cli_bad.sh
	./$(B)/test-asan

test-scalar: $(B)/test-scalar
	./$(B)/test-scalar

$(B)/test-neon: $(TEST_SRC) | $(B)
	$(NEON_CC) $(WARN) -Werror -O2 $(TESTDEFS) -static -o $@ tests/main.c $(LDLIBS)

# Missing toolchain or qemu: a failure under CI, a printed skip elsewhere.
test-neon: | $(B)
	@if command -v $(NEON_CC) >/dev/null 2>&1 && command -v $(QEMU_AARCH64) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(B)/test-neon && $(QEMU_AARCH64) ./$(B)/test-neon $(NEON_TESTS); \
	elif [ "$$CI" = "true" ]; then \
	  echo "$(NEON_CC) or $(QEMU_AARCH64) not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)"; exit 1; \
	else \
	  echo "skipped NEON tests: $(NEON_CC) or $(QEMU_AARCH64) not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)"; \
	fi

# ---- Windows: MinGW-w64 builds run under wine ----------------------------------------
# The suite (files mapped with MapViewOfFile), the suite with ARTR_NO_MMAP (fread) and
# artr-text.exe, whose text must equal the native artr-text's (tests/test_windows.sh).
# A self-contained wine prefix in build/wine, set up on the first run (about 20 s).
# Part of make test: about 1 minute, 2 the first time (builds and prefix).
# Missing toolchain or wine: a failure under CI, a printed skip elsewhere.
WIN_CC     ?= x86_64-w64-mingw32-gcc
WIN_CFLAGS ?= $(CFLAGS)
WINE       ?= wine
WINB       := $(B)/win
WIN_ENV    := WINE=$(WINE) WINEPREFIX=$(abspath $(B))/wine WINEDEBUG=-all
WIN_EXES   := $(WINB)/test.exe $(WINB)/test-nommap.exe $(WINB)/artr-text.exe $(WINB)/artr-simple.exe

$(WINB):
	@mkdir -p $(WINB)

$(WINB)/test.exe: $(TEST_SRC) | $(WINB)
	$(WIN_CC) $(WARN) -Werror $(WIN_CFLAGS) -o $@ tests/main.c $(LDLIBS)

$(WINB)/test-nommap.exe: $(TEST_SRC) | $(WINB)
	$(WIN_CC) $(WARN) -Werror $(WIN_CFLAGS) -DARTR_NO_MMAP -o $@ tests/main.c $(LDLIBS)

$(WINB)/artr-text.exe: examples/text.c examples/cli.h artr.h | $(WINB)
	$(WIN_CC) $(WARN) -Werror $(WIN_CFLAGS) -o $@ examples/text.c $(LDLIBS)

$(WINB)/artr-simple.exe: examples/simple.c artr.h | $(WINB)
	$(WIN_CC) $(WARN) -Werror $(WIN_CFLAGS) -o $@ examples/simple.c $(LDLIBS)

test-windows:
	@if command -v $(WIN_CC) >/dev/null 2>&1 && command -v $(WINE) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(WIN_EXES) $(B)/artr-text $(B)/artr-simple && \
	  $(WIN_ENV) sh tests/test_windows.sh $(WINB) $(MODEL) $(DRAFT); \
	elif [ "$$CI" = "true" ]; then \
	  echo "$(WIN_CC) or $(WINE) not found (apt-get install gcc-mingw-w64-x86-64 wine wine64)"; exit 1; \
	else \
	  echo "skipped Windows tests: $(WIN_CC) or $(WINE) not found (apt-get install gcc-mingw-w64-x86-64 wine wine64)"; \
	fi

# ---- benchmarks ---------------------------------------------------------------------

$(B)/artr-bench-scalar: tools/bench.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(OPENMP) -DARTR_NO_SIMD -D_POSIX_C_SOURCE=200809L -o $@ tools/bench.c $(LDLIBS)

# SIMD kernels against the references: artr-bench built with and without ARTR_NO_SIMD on
# the random models of tools/gen_bench_models.py (build/bench-models/, made if missing),
# one thread. BENCH_MODELS picks the files.
PYTHON   ?= python3
BENCH_MODELS ?= $(foreach s,15M 110M,$(foreach t,f32 f16 q8_0 q4_0,$(B)/bench-models/stories$(s)-$(t).gguf))
bench-kernels: $(B)/artr-bench $(B)/artr-bench-scalar
	@test -f $(B)/bench-models/stories110M-q4_0.gguf || $(PYTHON) tools/gen_bench_models.py
	@for f in $(BENCH_MODELS); do for b in artr-bench-scalar artr-bench; do \
	  echo "== $$b $$f"; ./$(B)/$$b -m $$f -t 1 -c 160 | grep -v '^model\|^threads'; done; done

$(B)/bench_tokenize: tools/bench_tokenize.c artr.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ tools/bench_tokenize.c $(LDLIBS)

# artr_tokenize on 1 MB and 4 MB of ../shared/data/tinyshakespeare.txt: linear scaling.
bench-tokenize: $(B)/bench_tokenize
	./$(B)/bench_tokenize

# ---- build-only checks -------------------------------------------------------------

check-compile: $(B)/compile_c99 $(B)/compile_cpp $(B)/compile_tu $(B)/compile_static \
               $(B)/compile_nostrings.o check-cortexm check-riscv check-readme
	@echo "compile checks: C99, C++, two TUs, ARTR_STATIC, ARTR_NO_FAILURE_STRINGS, Cortex-M4, RV32: ok"

$(B)/compile_c99: tests/compile_c99.c artr.h | $(B)
	$(CC) $(WARN) -Werror -O2 -o $@ tests/compile_c99.c $(LDLIBS)
	$(CC) $(WARN) -Werror -O2 -DARTR_NO_MMAP -c -o $@.nommap.o tests/compile_c99.c

$(B)/compile_cpp: tests/compile_cpp.cpp artr.h | $(B)
	$(CXX) -Wall -Wextra -pedantic -Werror -O2 -o $@ tests/compile_cpp.cpp $(LDLIBS)

$(B)/compile_tu: tests/compile_tu1.c tests/compile_tu2.c artr.h | $(B)
	$(CC) $(WARN) -Werror -O2 -o $@ tests/compile_tu1.c tests/compile_tu2.c $(LDLIBS)
	./$@

$(B)/compile_static: tests/compile_static1.c tests/compile_static2.c artr.h | $(B)
	$(CC) $(WARN) -Werror -O2 -o $@ tests/compile_static1.c tests/compile_static2.c $(LDLIBS)
	./$@

# README's quick start and forward-pass example must compile as written (the quick start
# as C++ too) and run: the quick start on the shipped model, printing text.
check-readme: README.md artr.h | $(B)
	@awk '/^### Quick start/{f=1} f&&/^```c$$/{p=1;next} p&&/^```$$/{exit} p' README.md > $(B)/readme_quickstart.c
	@test -s $(B)/readme_quickstart.c || { echo "no C example under '### Quick start' in README.md"; exit 1; }
	$(CC) -std=c99 -Wall -Wextra -pedantic -Werror -O2 -I. -o $(B)/readme_quickstart $(B)/readme_quickstart.c $(LDLIBS)
	$(CXX) -x c++ -Wall -Wextra -pedantic -Werror -O2 -I. -o $(B)/readme_quickstart_cpp $(B)/readme_quickstart.c $(LDLIBS)
	./$(B)/readme_quickstart $(MODEL) > $(B)/readme_quickstart.txt && test -s $(B)/readme_quickstart.txt
	@awk '/^### Forward pass/{f=1} f&&/^```c$$/{p=1;next} p&&/^```$$/{exit} p' README.md > $(B)/readme_example.c
	@test -s $(B)/readme_example.c || { echo "no C example under '### Forward pass' in README.md"; exit 1; }
	$(CC) -std=c99 -Wall -Wextra -Werror -O2 -I. -o $(B)/readme_example $(B)/readme_example.c $(LDLIBS)
	./$(B)/readme_example tests/fixtures/hf_llama.gguf

# With ARTR_NO_FAILURE_STRINGS no message text reaches the object file.
$(B)/compile_nostrings.o: tests/compile_c99.c artr.h | $(B)
	$(CC) $(WARN) -Werror -O2 -DARTR_NO_FAILURE_STRINGS -c -o $@ tests/compile_c99.c
	@if strings $@ | grep -q "runs past the end"; then \
	  echo "ARTR_NO_FAILURE_STRINGS left message text in $@"; exit 1; fi

# Cortex-M4, no stdio, no malloc: the object must not reference malloc/free/stdio.
# Missing toolchain: a failure under CI, a printed skip elsewhere.
check-cortexm: | $(B)
	@if command -v $(ARM_CC) >/dev/null 2>&1; then \
	  $(ARM_CC) $(ARM_CPU) -std=c99 -Wall -Wextra -pedantic -Werror -O2 \
	    -c -o $(B)/compile_cortexm.o tests/compile_cortexm.c && \
	  if $(ARM_NM) -u $(B)/compile_cortexm.o | grep -E ' (malloc|calloc|realloc|free|fopen|fread|printf|fprintf|puts|putchar|abort|exit)$$'; then \
	    echo "Cortex-M object references the symbols above"; exit 1; \
	  else echo "Cortex-M4 object: no malloc, free, fopen, printf"; fi; \
	elif [ "$$CI" = "true" ]; then \
	  echo "$(ARM_CC) not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"; exit 1; \
	else \
	  echo "skipped Cortex-M check: $(ARM_CC) not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"; \
	fi

# The same flash-and-arena source for a 32-bit RISC-V MCU (RV32IMAFC, hard float), freestanding
# with picolibc's headers; the same nm proof. Missing toolchain: as for check-cortexm.
RV_CC    ?= riscv64-unknown-elf-gcc
RV_NM    ?= riscv64-unknown-elf-nm
RV_CPU   := -march=rv32imafc -mabi=ilp32f --specs=picolibc.specs -ffreestanding
check-riscv: | $(B)
	@if command -v $(RV_CC) >/dev/null 2>&1; then \
	  $(RV_CC) $(RV_CPU) -std=c99 -Wall -Wextra -pedantic -Werror -O2 \
	    -c -o $(B)/compile_riscv.o tests/compile_cortexm.c && \
	  if $(RV_NM) -u $(B)/compile_riscv.o | grep -E ' (malloc|calloc|realloc|free|fopen|fread|printf|fprintf|puts|putchar|abort|exit)$$'; then \
	    echo "RISC-V object references the symbols above"; exit 1; \
	  else echo "RV32IMAFC object: no malloc, free, fopen, printf"; fi; \
	elif [ "$$CI" = "true" ]; then \
	  echo "$(RV_CC) not found (apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf)"; exit 1; \
	else \
	  echo "skipped RISC-V check: $(RV_CC) not found (apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf)"; \
	fi

# artr-bin2c output compiles as C99 (GNU attribute), C11 (_Alignas) and C++ (alignas), and
# the arrays load in place (no_copy) at their GGUF's alignment.
$(B)/bin2c_fixtures.c: $(B)/artr-bin2c tests/fixtures/llama.gguf tests/fixtures/meta.gguf
	./$(B)/artr-bin2c tests/fixtures/llama.gguf bin2c_llama > $@.tmp
	./$(B)/artr-bin2c tests/fixtures/meta.gguf bin2c_meta >> $@.tmp
	mv $@.tmp $@

check-bin2c: $(B)/bin2c_fixtures.c tests/bin2c_check.c artr.h
	$(CC) -std=c99 -Wall -Wextra -pedantic -Werror -O2 -I$(B) -o $(B)/bin2c_check_c99 tests/bin2c_check.c $(LDLIBS)
	$(CC) -std=c11 -Wall -Wextra -pedantic -Werror -O2 -I$(B) -o $(B)/bin2c_check_c11 tests/bin2c_check.c $(LDLIBS)
	$(CXX) -x c++ -Wall -Wextra -pedantic -Werror -O2 -I$(B) -o $(B)/bin2c_check_cpp tests/bin2c_check.c $(LDLIBS)
	./$(B)/bin2c_check_c99 && ./$(B)/bin2c_check_c11 && ./$(B)/bin2c_check_cpp

# ---- firmware: examples/firmware on a Cortex-M4 (QEMU mps2-an386) ----------------------
# FW_MODEL is quantized to FW_QUANT (q8_0, q4_0, or none: used as it is), turned into a
# const array by artr-bin2c and linked into flash. The same program is built for the host;
# test-firmware runs both with FW_N and FW_PROMPT and compares their stdout.
# The default is the shipped draft model (0.5M params; 0.54 MB as Q8_0).
FW_MODEL   ?= models/shakespeare-draft.gguf
FW_QUANT   ?= q8_0
FW_N       ?= 40
FW_PROMPT  ?= ROMEO:
# test-firmware also runs the shipped 4.7M model as llama-quantize's Q4_K_M mix (Q4_K,
# Q6_K, Q5_0: 2.9 MB of flash), with the arena it needs.
FW_K_MODEL ?= models/shakespeare.gguf
FW_K_QUANT ?= q4_k_m
FW_K_ARENA ?= 1048576
# The static arena (model tables + one context, n_ctx 64); README "Firmware" says why.
FW_ARENA   ?= 393216
FW_TIMEOUT ?= 120
# 1: both builds take expf/sinf/cosf from examples/firmware/same_math.h instead of libm, so
# the logits are bit-identical too (newlib and glibc differ by 1 ulp; artr.h is unchanged).
FW_SAME_MATH ?= 0
FW         := $(B)/fw
ARM_SIZE   ?= arm-none-eabi-size
QEMU_ARM   ?= qemu-system-arm
# ISO C and no FMA contraction on both sides, reference kernels on the host: the same
# float operations in the same order (see examples/firmware/README.md).
FW_CFLAGS  := -std=c99 -O2 -Wall -Wextra -pedantic -Werror -ffp-contract=off \
              -DFW_ARENA_BYTES=$(FW_ARENA) -I$(FW) $(if $(filter 1,$(FW_SAME_MATH)),-DFW_SAME_MATH)
FW_ARM_LD  := --specs=nano.specs --specs=rdimon.specs -nostartfiles -T examples/firmware/mps2.ld \
              -Wl,--gc-sections -Wl,-Map=$(FW)/firmware.map
FW_SRC     := examples/firmware/main.c examples/firmware/same_math.h artr.h $(FW)/config

# Remade when a FW_ setting changes, so the model and both programs follow it.
$(FW)/config: FORCE
	@mkdir -p $(FW)
	@echo '$(FW_MODEL) $(FW_QUANT) $(FW_ARENA) $(FW_SAME_MATH)' | cmp -s - $@ || \
	  echo '$(FW_MODEL) $(FW_QUANT) $(FW_ARENA) $(FW_SAME_MATH)' > $@

$(FW)/model.gguf: $(FW)/config $(FW_MODEL) $(B)/artr-quantize
	@if [ "$(FW_QUANT)" = none ]; then cp $(FW_MODEL) $@; \
	else echo "./$(B)/artr-quantize -q $(FW_MODEL) $@ $(FW_QUANT)"; ./$(B)/artr-quantize -q $(FW_MODEL) $@ $(FW_QUANT); fi

$(FW)/fw_model.c: $(FW)/model.gguf $(B)/artr-bin2c
	./$(B)/artr-bin2c -o $@ $(FW)/model.gguf fw_model

$(FW)/firmware.elf: $(FW_SRC) $(FW)/fw_model.c examples/firmware/startup.c examples/firmware/mps2.ld
	$(ARM_CC) $(ARM_CPU) $(FW_CFLAGS) -DFW_TARGET -ffunction-sections -fdata-sections \
	  examples/firmware/startup.c examples/firmware/main.c $(FW_ARM_LD) -lm -o $@

$(FW)/firmware_host: $(FW_SRC) $(FW)/fw_model.c
	$(CC) $(FW_CFLAGS) -DARTR_NO_SIMD -o $@ examples/firmware/main.c $(LDLIBS)

# artr's own code in the firmware: the artr_/artr__ symbols the linker kept.
firmware-size: $(FW)/firmware.elf
	@$(ARM_SIZE) $(FW)/firmware.elf
	@$(ARM_NM) -S -t d $(FW)/firmware.elf | awk ' \
	  $$3 ~ /^[tT]$$/ && $$4 ~ /^artr_/ { artr += $$2 } \
	  $$4 == "fw_model" { model = $$2 + 0 } $$4 == "arena" { arena = $$2 + 0 } \
	  END { printf "artr code: %d bytes; model array: %d bytes (flash); arena: %d bytes (RAM)\n", artr, model, arena }'

firmware: $(FW)/firmware.elf $(FW)/firmware_host

# Missing QEMU or toolchain: a failure under CI, a printed skip elsewhere.
test-firmware:
	@if command -v $(ARM_CC) >/dev/null 2>&1 && command -v $(QEMU_ARM) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory firmware firmware-size && \
	  TIMEOUT=$(FW_TIMEOUT) sh examples/firmware/check.sh $(FW) $(FW_N) $(FW_PROMPT) && \
	  echo "firmware, second model: $(FW_K_MODEL) as $(FW_K_QUANT) (the k-quants' reference kernels)" && \
	  $(MAKE) --no-print-directory firmware firmware-size FW_MODEL=$(FW_K_MODEL) FW_QUANT=$(FW_K_QUANT) \
	    FW_ARENA=$(FW_K_ARENA) && \
	  TIMEOUT=$(FW_TIMEOUT) sh examples/firmware/check.sh $(FW) $(FW_N) $(FW_PROMPT); \
	elif [ "$$CI" = "true" ]; then \
	  echo "FAIL firmware: $(ARM_CC) or $(QEMU_ARM) not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)"; exit 1; \
	else \
	  echo "skipped firmware test: $(ARM_CC) or $(QEMU_ARM) not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)"; \
	fi

# ---- packaging ---------------------------------------------------------------------
# make install PREFIX=... [DESTDIR=...]: the header, the tools (convert.py as artr-convert),
# a pkg-config file and a CMake package (find_package(artr) -> artr::artr).

install: $(TOOLS) $(B)/artr-simple
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/artr
	install -m 644 artr.h $(DESTDIR)$(PREFIX)/include/artr.h
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 tools/convert.py $(DESTDIR)$(PREFIX)/bin/artr-convert
	sed -e 's|@ARTR_VERSION@|$(VERSION)|' artr.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/artr.pc
	install -m 644 cmake/artrConfig.cmake $(DESTDIR)$(PREFIX)/lib/cmake/artr/artrConfig.cmake
	sed -e 's|@ARTR_VERSION@|$(VERSION)|' -e 's|@ARTR_VERSION_MAJOR@|$(VMAJOR)|' \
	  cmake/artrConfigVersion.cmake.in > $(DESTDIR)$(PREFIX)/lib/cmake/artr/artrConfigVersion.cmake

# A tiny consumer built three ways: CMake add_subdirectory, CMake find_package after
# `make install` into a scratch prefix, and pkg-config.
PKG := $(abspath $(B))/package
test-package: all
	rm -rf $(PKG)
	$(MAKE) --no-print-directory install PREFIX=$(PKG)/prefix >/dev/null
	cmake -S tests/package -B $(PKG)/subdir -DARTR_SOURCE_DIR=$(CURDIR) >/dev/null
	cmake --build $(PKG)/subdir >/dev/null
	$(PKG)/subdir/consumer tests/fixtures/llama.gguf
	cmake -S tests/package -B $(PKG)/found -DCMAKE_PREFIX_PATH=$(PKG)/prefix >/dev/null
	cmake --build $(PKG)/found >/dev/null
	$(PKG)/found/consumer tests/fixtures/llama.gguf
	$(CC) -std=c99 -o $(PKG)/pc_consumer tests/package/consumer.c \
	  $$(PKG_CONFIG_PATH=$(PKG)/prefix/lib/pkgconfig pkg-config --cflags --libs artr)
	$(PKG)/pc_consumer tests/fixtures/llama.gguf
	$(PKG)/prefix/bin/artr-inspect tests/fixtures/llama.gguf | tail -n 1
	@echo "package: add_subdirectory, find_package and pkg-config consumers: ok"

# make test runs test-package when cmake and pkg-config are there (CI installs them).
check-package:
	@if command -v cmake >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory test-package; \
	elif [ "$$CI" = "true" ]; then \
	  echo "cmake or pkg-config not found (apt-get install cmake pkg-config)"; exit 1; \
	else \
	  echo "skipped package test: cmake or pkg-config not found (apt-get install cmake pkg-config)"; \
	fi

# ---- fuzzing (libFuzzer; clang) -----------------------------------------------------
# make fuzz FUZZ_SECONDS=600: each of the three targets (loaders, tokenizer, chat formats)
# in turn. Corpora grow in tests/fuzz/work/ (not committed); copy any crash input it
# reports into tests/fuzz/regress/ (loader) or tests/fuzz/tokenize/, tests/fuzz/chat/
# so make test replays it. Re-minimise those with make fuzz-merge.
FUZZ_FLAGS := -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -DARTR_FUZZ_LIBFUZZER

$(B)/fuzz_load: tests/fuzz_load.c artr.h | $(B)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz_load.c $(LDLIBS)

$(B)/fuzz_tokenize: tests/fuzz_tokenize.c artr.h | $(B)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz_tokenize.c $(LDLIBS)

$(B)/fuzz_chat: tests/fuzz_chat.c artr.h | $(B)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz_chat.c $(LDLIBS)

fuzz: $(B)/fuzz_load $(B)/fuzz_tokenize $(B)/fuzz_chat
	@mkdir -p tests/fuzz/work/corpus tests/fuzz/work/artifacts tests/fuzz/work/tokenize tests/fuzz/work/chat
	@cp -n $(FIXTURES) tests/fuzz/work/corpus/ 2>/dev/null || true
	@printf 'V' | cat - tests/fixtures/tok32.bin > tests/fuzz/work/corpus/vocab-tok32
	./$(B)/fuzz_load -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  -artifact_prefix=tests/fuzz/work/artifacts/ tests/fuzz/work/corpus tests/fuzz/regress
	./$(B)/fuzz_tokenize -max_total_time=$(FUZZ_SECONDS) -max_len=1024 -timeout=5 \
	  -artifact_prefix=tests/fuzz/work/artifacts/ tests/fuzz/work/tokenize tests/fuzz/tokenize
	./$(B)/fuzz_chat -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -timeout=5 \
	  -artifact_prefix=tests/fuzz/work/artifacts/ tests/fuzz/work/chat tests/fuzz/chat

# Minimise the committed tokenizer and chat corpora (with what tests/fuzz/work/ found).
fuzz-merge: $(B)/fuzz_tokenize $(B)/fuzz_chat
	@mkdir -p tests/fuzz/work/tokenize tests/fuzz/work/chat tests/fuzz/work/m
	rm -rf tests/fuzz/work/m/t tests/fuzz/work/m/c && mkdir -p tests/fuzz/work/m/t tests/fuzz/work/m/c
	./$(B)/fuzz_tokenize -merge=1 -max_len=1024 tests/fuzz/work/m/t tests/fuzz/tokenize tests/fuzz/work/tokenize
	./$(B)/fuzz_chat -merge=1 -max_len=2048 tests/fuzz/work/m/c tests/fuzz/chat tests/fuzz/work/chat
	rm -f tests/fuzz/tokenize/* tests/fuzz/chat/*
	cp tests/fuzz/work/m/t/* tests/fuzz/tokenize/ && cp tests/fuzz/work/m/c/* tests/fuzz/chat/

clean:
	rm -rf $(B)

FORCE:
