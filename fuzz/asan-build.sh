#!/usr/bin/env bash
# Builds obsvty._native with AddressSanitizer and UndefinedBehaviorSanitizer into .fuzz/asan-build
# (the in-tree build is untouched) and writes there the LD_PRELOAD its runs need:
#   .fuzz/asan-build/obsvty/_native*.so   the sanitized extension (fuzz/native.py imports it when
#                                         OBSVTY_FUZZ_EXTENSION_DIR=.fuzz/asan-build)
#   .fuzz/asan-build/preload              the sanitizer runtime to preload
#   .fuzz/asan-build/compiler             which compiler built it
# (FUZZ_ASAN_BUILD=dir for another directory than .fuzz/asan-build)
# With clang (FUZZ_CC, else clang, else clang-14), the C code is also built with
# -fsanitize=fuzzer-no-link, so libFuzzer is guided by its coverage, and the preload is the ASan
# runtime with libFuzzer linked in (as atheris's own asan_with_fuzzer.so: the coverage hooks must
# be libFuzzer's, not the runtime's empty defaults); atheris then uses that libFuzzer. With gcc
# only, the run has the sanitizers but no coverage at all (gcc's preloaded libasan takes the
# coverage hooks, even atheris's Python ones): libFuzzer runs the corpus in .fuzz/ (what
# `make fuzz` found) and blind mutations of it.
# usage: fuzz/asan-build.sh PYTHON-COMMAND...   (a Python with setuptools, to run setup.py)
set -euo pipefail
cd "$(dirname "$0")/.."
(($#)) || { echo "usage: fuzz/asan-build.sh PYTHON-COMMAND..." >&2; exit 2; }
out=${FUZZ_ASAN_BUILD:-.fuzz/asan-build}
rm -rf "$out"
mkdir -p "$out"

cc=${FUZZ_CC:-}
if [[ -z $cc ]]; then
  for candidate in clang clang-14 gcc; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    if [[ $candidate == clang* ]]; then  # usable only with its runtimes (libclang-rt-*-dev)
      rt=$("$candidate" -print-runtime-dir)
      [[ -f $rt/libclang_rt.asan-x86_64.a && -f $rt/libclang_rt.fuzzer_no_main-x86_64.a ]] ||
        { echo "fuzz-asan: $candidate has no ASan/libFuzzer runtime in $rt" >&2; continue; }
    fi
    cc=$candidate
    break
  done
fi
# -fno-wrapv: Python's own CFLAGS (which setuptools puts first) make signed overflow wrap, which
# would turn UBSan's signed-integer-overflow check off; -O1 -g for readable reports
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-wrapv -O1 -g"
if "$cc" --version | grep -q clang; then
  flags="$flags -fsanitize=fuzzer-no-link"
  cxx=${cc/clang/clang++}
  rt=$("$cc" -print-runtime-dir)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp "$rt/libclang_rt.asan-x86_64.a" "$tmp/asan.a"
  ar d "$tmp/asan.a" asan_preinit.cpp.o  # a .preinit_array has no place in a shared library
  "$cxx" -shared -o "$out/asan_with_fuzzer.so" -Wl,--whole-archive "$tmp/asan.a" \
    "$rt/libclang_rt.fuzzer_no_main-x86_64.a" -Wl,--no-whole-archive -lpthread -ldl -lrt -lm
  preload=$(realpath "$out/asan_with_fuzzer.so")
  echo "coverage-guided on the C code ($cc -fsanitize=fuzzer-no-link)" >"$out/compiler"
else
  # gcc links libasan and libubsan into the extension as dependencies; libasan must come first
  preload=$(realpath "$("$cc" -print-file-name=libasan.so)")
  echo "no coverage guidance ($cc: no -fsanitize=fuzzer-no-link; install clang)" >"$out/compiler"
fi
echo "$preload" >"$out/preload"

CC=$cc CFLAGS=$flags LDFLAGS="-fsanitize=address,undefined" \
  "$@" setup.py -q build_ext --build-lib "$out" --build-temp "$out/tmp" --force
ls "$out"/obsvty/_native*.so >/dev/null
echo "fuzz-asan: obsvty._native in $out, $(cat "$out/compiler"), LD_PRELOAD=$preload"
