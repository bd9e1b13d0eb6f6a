#!/usr/bin/env bash
# device-check.sh: the GPU checks, run on the GPU machine, which has no .NET and no network. Everything it runs is
# published beforehand on a CPU machine, from the repository root:
#
#   dotnet publish tests/PromptAD.Tests -c Release -r linux-x64 --self-contained -o artifacts/device/tests
#   dotnet publish src/PromptAD -c Release -r linux-x64 -o artifacts/device/cli        # NativeAOT
#   tar czf artifacts/device.tgz --exclude='*.dbg' --exclude='*.pdb' -C artifacts device   # ~50 MB, one file to carry
#
# (`dotnet pwsh build.ps1 device` runs those three.) Then on the GPU machine, from the repository root, with
# artifacts/device.tgz carried over: bash scripts/device-check.sh — it unpacks the archive when needed.
# It prints the GPU and the CLI's doctor report, runs the GPU op table (CudaOpTests; in TF32 and BF16 too:
# CudaTf32OpTests, CudaTf32PrecisionOpTests, CudaBf16OpTests) and the kernel checks (KernelGpuTests), repeats that run
# under compute-sanitizer memcheck when the tool exists, runs `promptad bench gpu`, `bench clip --device cuda` and `bench e2e --device cuda` (figures only), checks
# `promptad profile --device cuda` against the device budget (a steady training step is one CUDA graph launch), runs
# `promptad bench precision` (fp32 against bf16 on MVTec bottle, when ../shared/data/mvtec/bottle or $PROMPTAD_BOTTLE
# is there), and ends with ONE line "N passed, N failed" (skipped tests count as neither; a run that
# skips every GPU test — no device seen — is reported as failed). Budget: under 5 minutes.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -f artifacts/device.tgz && ! -d artifacts/device ]]; then tar xzf artifacts/device.tgz -C artifacts; fi
tests=artifacts/device/tests/PromptAD.Tests
cli=artifacts/device/cli/promptad
filter=(-class "*CudaOpTests*" -class "*CudaTf32OpTests*" -class "*CudaTf32PrecisionOpTests*" -class "*CudaBf16OpTests*" -class "*KernelGpuTests*")
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

section() { printf '\n==== %s ====\n' "$*"; }

# Adds one xunit run's "Total: N, Errors: E, Failed: F, Skipped: S, Not Run: X" to the counts.
count() {
    local line total errors fails skipped notrun
    line=$(grep -oE 'Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+(, Not Run: [0-9]+)?' "$1" | tail -n 1)
    if [[ -z "$line" ]]; then
        echo "no xunit summary line in this run"
        failed=$((failed + 1))
        return
    fi
    read -r total errors fails skipped notrun < <(echo "$line" | grep -oE '[0-9]+' | tr '\n' ' ')
    notrun=${notrun:-0}
    passed=$((passed + total - fails - skipped - notrun))
    failed=$((failed + fails + errors))
    if [[ "$total" -gt 0 && "$skipped" -eq "$total" ]]; then
        echo "every test skipped: the GPU was not usable"
        failed=$((failed + 1))
    fi
}

section "nvidia-smi"
nvidia-smi || echo "nvidia-smi failed"

section "promptad doctor"
if [[ -x "$cli" ]]; then
    if "$cli" --help 2>&1 | grep -qw doctor; then timeout 60 "$cli" doctor; else echo "(the CLI has no doctor verb yet)"; fi
else
    echo "missing $cli (publish it first, see this script's header)"
fi

section "GPU op table and kernel checks"
if [[ -x "$tests" ]]; then
    PROMPTAD_REQUIRE_GPU=1 PROMPTAD_CUDA_SYNC=1 timeout 150 "$tests" "${filter[@]}" -noColor 2>&1 | tee "$log" | grep -vE '^\s+\[SKIP\]|^\s+No CUDA GPU|^\s*$' | tail -n 60
    count "$log"

    section "compute-sanitizer memcheck"
    if command -v compute-sanitizer > /dev/null 2>&1; then
        # The sanitizer slows kernels ~10-100x: the parity run again, with a smaller budget; its own error count is
        # part of the verdict (exit code 0 and "ERROR SUMMARY: 0 errors").
        # PROMPTAD_CUDA_POOL=0: every tensor its own cuMemAlloc, so out-of-bounds accesses are not hidden inside
        # a larger pooled block.
        PROMPTAD_CUDA_POOL=0 timeout 120 compute-sanitizer --tool memcheck --error-exitcode 99 "$tests" "${filter[@]}" -noColor > "$log" 2>&1
        rc=$?
        grep -E 'ERROR SUMMARY|Total:' "$log" | tail -n 3
        if [[ $rc -eq 99 ]] || grep -qE 'ERROR SUMMARY: [1-9]' "$log"; then
            echo "memcheck found errors:"
            grep -m 20 -E '^========= (Invalid|Program hit|Address)' "$log"
            failed=$((failed + 1))
        elif [[ $rc -eq 124 ]]; then
            echo "memcheck run timed out (not counted)"
        fi
    else
        echo "(compute-sanitizer not installed)"
    fi
else
    echo "missing $tests (publish it first, see this script's header)"
    failed=$((failed + 1))
fi

section "promptad bench gpu"
if [[ -x "$cli" ]] && "$cli" bench --help 2>&1 | grep -qw gpu; then
    timeout 60 "$cli" bench gpu || echo "bench gpu exited with $?"
else
    echo "(no 'bench gpu' verb in this CLI)"
fi

section "promptad bench clip / e2e --device cuda"
# Random-weight CLIP encoders (images/s, prompts/s) and train + test of one category (1 shot) on the GPU: figures to
# read, not a verdict, so they count as neither passed nor failed.
if [[ -x "$cli" ]]; then
    timeout 60 "$cli" bench clip --device cuda || echo "bench clip exited with $?"
    bottle_e2e=${PROMPTAD_BOTTLE:-}
    for candidate in ../shared/data/mvtec/bottle shared/data/mvtec/bottle; do
        if [[ -z "$bottle_e2e" && -d "$candidate/test" ]]; then bottle_e2e=$candidate; fi
    done
    if [[ -n "$bottle_e2e" ]]; then
        timeout 90 "$cli" bench e2e --data "$bottle_e2e" --device cuda || echo "bench e2e exited with $?"
    else
        echo "(no bottle data for bench e2e: set PROMPTAD_BOTTLE)"
    fi
fi

section "promptad profile --device cuda"
# Launches, allocations, copies and synchronizations per training step and scoring batch on the real driver; a
# steady step (the last of each head) must allocate, free, copy and synchronize nothing, and with CUDA graphs (on
# unless PROMPTAD_CUDA_GRAPHS=0) be exactly one graph launch (README, "Device budget"). Columns: $5 kernels, $6 gemms,
# $7 graphs, $10 alloc, $11 free, $12 htod, $14 dtoh, $16 syncs.
if [[ -x "$cli" ]] && "$cli" --help 2>&1 | grep -qw profile; then
    timeout 60 "$cli" profile --device cuda | tee "$log"
    if awk -v graphs="${PROMPTAD_CUDA_GRAPHS:-1}" '/^train (image|pixel) step 4 / {
            if ($10 != 0 || $11 != 0 || $12 != 0 || $14 != 0 || $16 != 0) bad = 1
            if (graphs != "0" && ($7 != 1 || $5 != 0 || $6 != 0)) bad = 1
            seen++
        } END { exit !(seen == 2 && !bad) }' "$log"; then
        passed=$((passed + 1))
    else
        echo "profile: a steady training step allocated, freed, copied, synchronized or was not one graph launch (or the run failed)"
        failed=$((failed + 1))
    fi
else
    echo "(no 'profile' verb in this CLI)"
fi

section "promptad bench precision (bottle, fp32 against bf16)"
# Same random ViT-B-16-plus-240 weights trained and scored twice on the GPU: largest image-score difference, pixel-map
# rank correlation, image AUROC both ways. 20 epochs per head keep it inside the script's budget. A benchmark, not a
# test: it counts as passed when it runs to its last line, whatever the figures.
bottle=${PROMPTAD_BOTTLE:-}
for candidate in ../shared/data/mvtec/bottle shared/data/mvtec/bottle; do
    if [[ -z "$bottle" && -d "$candidate/test" ]]; then bottle=$candidate; fi
done
if [[ -x "$cli" ]] && "$cli" bench --help 2>&1 | grep -qw precision && [[ -n "$bottle" ]]; then
    timeout 100 "$cli" bench precision --data "$bottle" --device cuda --precision bf16 --epochs 20 | tee "$log"
    if grep -q "pixel-map Spearman correlation" "$log"; then passed=$((passed + 1)); else echo "bench precision did not finish"; failed=$((failed + 1)); fi
else
    echo "(no 'bench precision' verb in this CLI, or no bottle data: set PROMPTAD_BOTTLE)"
fi

echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
