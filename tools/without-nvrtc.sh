#!/usr/bin/env bash
# Runs a command as a machine without NVRTC sees it: in a private mount namespace where every libnvrtc* file the
# loader or PromptAD's library resolver could find is covered by an empty file (nothing changes outside the command).
# Checks that the NVRTC tests skip with how to install it, and fail with PROMPTAD_REQUIRE_NVRTC=1 (as CI sets):
#   tools/without-nvrtc.sh dotnet pwsh build.ps1 test
#   PROMPTAD_REQUIRE_NVRTC=1 tools/without-nvrtc.sh dotnet pwsh build.ps1 test -class "*KernelCompileTests*"
# Linux only; needs root or unprivileged user namespaces (unshare).
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
mapfile -t libraries < <(
    { ldconfig -p | awk '/libnvrtc/ { print $NF }'
      ls -d /usr/local/cuda*/lib64/libnvrtc* "${CUDA_PATH:-/nonexistent}"/lib64/libnvrtc* \
            /usr/lib/python3*/*-packages/nvidia/cuda_nvrtc/lib/libnvrtc* \
            /usr/local/lib/python3*/*-packages/nvidia/cuda_nvrtc/lib/libnvrtc* \
            "$HOME"/.local/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc* 2>/dev/null || true
    } | xargs -r readlink -f | sort -u)
empty=$(mktemp)
trap 'rm -f "$empty"' EXIT
flags=(--mount --propagation private)
[[ $(id -u) -eq 0 ]] || flags+=(--map-root-user)
# shellcheck disable=SC2016 # expanded by the inner shell
unshare "${flags[@]}" bash -c '
    empty=$1; shift; count=$1; shift
    for ((i = 0; i < count; i++)); do mount --bind "$empty" "$1"; echo "hidden: $1" >&2; shift; done
    exec "$@"' hide "$empty" "${#libraries[@]}" "${libraries[@]}" "$@"
