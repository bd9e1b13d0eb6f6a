#!/usr/bin/env bash
# device-check.sh: the GPU checks in two parts that each fit a short window on a GPU machine (no .NET, no network).
#
#   OUT=dir bash scripts/device-check.sh part1 [--emulated]   # doctor, GPU op tables (fp32, tf32, bf16), kernel checks,
#                                                             # compute-sanitizer memcheck, profile --device cuda
#   OUT=dir bash scripts/device-check.sh part2 [--emulated]   # bench gpu, bench clip, bench e2e in fp32/tf32/bf16,
#                                                             # bench precision, bench serve, then one whole `run` of
#                                                             # bottle (k 1,2,4 x 2 seeds, 5 epochs) on random
#                                                             # ViT-B-16-plus-240 weights it writes itself
#
# Each part writes one log per step and summary.json ({"part", "emulated", "steps": [{"name", "status", "seconds",
# "log"}], "passed", "failed", "skipped"}) into $OUT (default artifacts/device-check/<part>), rewritten after every step
# so a part cut short still leaves its summary; it ends with one line "N passed, N failed, N skipped" and exits 0 only
# when nothing failed. Statuses: passed, failed, skipped (the tool or data is missing, or compute-sanitizer answers
# "Device not supported"), figures (a benchmark that ran to its end: counts as passed). Every step has its own timeout;
# their sum keeps each part under 8 minutes (part1 430 s, part2 440 s).
#
# Artifacts are published beforehand on a CPU machine (`dotnet pwsh build.ps1 device`):
#   dotnet publish tests/PromptAD.Tests -c Release -r linux-x64 --self-contained -o artifacts/device/tests
#   dotnet publish src/PromptAD -c Release -r linux-x64 -o artifacts/device/cli        # NativeAOT
#   tar czf artifacts/device.tgz --exclude='*.dbg' --exclude='*.pdb' -C artifacts device
# and unpacked here when needed. $PROMPTAD_CLI and $PROMPTAD_TESTS override the two executables.
#
# --emulated is a dry run without a GPU: the same steps on the emulated GPU (our kernels compiled for the CPU,
# kernels/emulation/build.sh) with the tiny-test backbone where the verb has an emulated device (op tables, kernel
# checks, profile, bench precision), on the CPU with the tiny-test backbone otherwise (bench clip, e2e, serve, run);
# memcheck, bench gpu and the reduced-precision e2e runs are reported as skipped. Without artifacts it uses the
# Release build outputs.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

part="${1:-}"
emulated=0
[[ "${2:-}" == "--emulated" ]] && emulated=1
if [[ "$part" != part1 && "$part" != part2 ]] || [[ $# -gt 2 ]] || [[ $# -eq 2 && $emulated -eq 0 ]]; then
    echo "usage: OUT=dir scripts/device-check.sh part1|part2 [--emulated]" >&2
    exit 2
fi
out="${OUT:-artifacts/device-check/$part}"
mkdir -p "$out" || exit 2
out="$(cd "$out" && pwd)"

if [[ -f artifacts/device.tgz && ! -d artifacts/device ]]; then tar xzf artifacts/device.tgz -C artifacts; fi
cli="${PROMPTAD_CLI:-artifacts/device/cli/promptad}"
tests="${PROMPTAD_TESTS:-artifacts/device/tests/PromptAD.Tests}"
if [[ $emulated -eq 1 ]]; then
    [[ -x "$cli" ]] || cli=src/PromptAD/bin/Release/net10.0/promptad
    [[ -x "$tests" ]] || tests=tests/PromptAD.Tests/bin/Release/net10.0/PromptAD.Tests
fi

bottle=${PROMPTAD_BOTTLE:-}
for candidate in ../shared/data/mvtec/bottle shared/data/mvtec/bottle; do
    if [[ -z "$bottle" && -d "$candidate/test" ]]; then bottle=$candidate; fi
done

steps_json=""
passed=0
failed=0
skipped=0

write_summary() {
    local tmp="$out/summary.json.tmp"
    printf '{"part": "%s", "emulated": %s, "steps": [%s], "passed": %d, "failed": %d, "skipped": %d}\n' \
        "$part" "$([[ $emulated -eq 1 ]] && echo true || echo false)" "$steps_json" "$passed" "$failed" "$skipped" > "$tmp"
    mv "$tmp" "$out/summary.json"
}

# record NAME STATUS SECONDS: adds a step to the counts and the summary.
record() {
    case "$2" in
        passed|figures) passed=$((passed + 1)) ;;
        skipped) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
    [[ -n "$steps_json" ]] && steps_json+=", "
    steps_json+=$(printf '{"name": "%s", "status": "%s", "seconds": %d, "log": "%s.log"}' "$1" "$2" "$3" "$1")
    printf '%-24s %-8s %4ds  %s\n' "$1" "$2" "$3" "$out/$1.log"
    write_summary
}

# step NAME TIMEOUT KIND COMMAND...: runs the command with its log in $OUT/NAME.log. KIND: test (exit 0 = passed),
# figures (a benchmark: exit 0 = figures) or check:FUNCTION (the function prints the status from the log and exit code).
step() {
    local name="$1" limit="$2" kind="$3" start rc status
    shift 3
    start=$(date +%s)
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    rc=$?
    if [[ $rc -eq 124 ]]; then echo "(timed out after ${limit}s)" >> "$out/$name.log"; fi
    case "$kind" in
        test) [[ $rc -eq 0 ]] && status=passed || status=failed ;;
        figures) [[ $rc -eq 0 ]] && status=figures || status=failed ;;
        check:*) status=$("${kind#check:}" "$out/$name.log" "$rc") ;;
    esac
    record "$name" "$status" $(($(date +%s) - start))
}

# A step that cannot run here: NAME WHY STATUS.
absent() {
    echo "$2" > "$out/$1.log"
    record "$1" "$3" 0
}

# An xunit run passes when it exited 0 and did not skip every test (a GPU run that saw no device skips them all).
xunit_status() {
    local line total skip
    line=$(grep -oE 'Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+' "$1" | tail -n 1)
    if [[ "$2" -ne 0 || -z "$line" ]]; then echo failed; return; fi
    read -r total _ _ skip < <(echo "$line" | grep -oE '[0-9]+' | tr '\n' ' ')
    if [[ "$total" -gt 0 && "$skip" -eq "$total" ]]; then echo failed; else echo passed; fi
}

# compute-sanitizer on a GPU it does not know answers "Device not supported": the step is skipped, not failed.
memcheck_status() {
    if grep -q "Device not supported" "$1"; then echo skipped
    elif [[ "$2" -eq 99 ]] || grep -qE 'ERROR SUMMARY: [1-9]' "$1"; then echo failed
    else xunit_status "$1" "$2"
    fi
}

# A steady training step (the last of each head) allocates, frees, copies and synchronizes nothing and, with CUDA
# graphs, is exactly one graph launch (README, "Device budget"). Columns: $5 kernels, $6 gemms, $7 graphs,
# $10 alloc, $11 free, $12 htod, $14 dtoh, $16 syncs.
profile_status() {
    if [[ "$2" -ne 0 ]]; then echo failed; return; fi
    if awk -v graphs="${PROMPTAD_CUDA_GRAPHS:-1}" '/^train (image|pixel) step 4 / {
            if ($10 != 0 || $11 != 0 || $12 != 0 || $14 != 0 || $16 != 0) bad = 1
            if (graphs != "0" && ($7 != 1 || $5 != 0 || $6 != 0)) bad = 1
            seen++
        } END { exit !(seen == 2 && !bad) }' "$1"; then echo passed; else echo failed; fi
}

gpu=(--device cuda)  # verbs with a GPU device
dev=(--device cuda)  # the general --device option (cpu|cuda)
tiny=()
if [[ $emulated -eq 1 ]]; then
    if ! emulator="$(bash kernels/emulation/build.sh 2> "$out/emulator-build.log" | tail -n 1)"; then
        echo "kernels/emulation/build.sh failed: see $out/emulator-build.log" >&2
    fi
    gpu=(--device emulated --emulator "$emulator")
    dev=(--device cpu)
    tiny=(--config tiny-test)
fi

echo "device-check $part$([[ $emulated -eq 1 ]] && echo " (emulated dry run)") -> $out"
have_cli=1
have_tests=1
[[ -x "$cli" ]] || { have_cli=0; absent cli "missing $cli (publish it first, see this script's header)" failed; }
[[ -x "$tests" ]] || { have_tests=0; absent tests "missing $tests (publish it first, see this script's header)" failed; }

if [[ "$part" == part1 ]]; then
    if [[ $emulated -eq 0 ]]; then
        step nvidia-smi 30 figures nvidia-smi
        ops=(-class "*CudaOpTests*" -class "*CudaTf32OpTests*" -class "*CudaTf32PrecisionOpTests*" -class "*CudaBf16OpTests*")
        kernels=(-class "*KernelGpuTests*")
        export PROMPTAD_REQUIRE_GPU=1 PROMPTAD_CUDA_SYNC=1
    else
        ops=(-class "*EmulatedGpuOpTests*" -class "*EmulatedTf32OpTests*" -class "*EmulatedBf16OpTests*")
        kernels=(-class "*EmulatedSanitizerTests*")
        export PROMPTAD_OPS="${PROMPTAD_OPS:-layernorm,matmul}" PROMPTAD_REQUIRE_GXX=1
    fi
    [[ $have_cli -eq 1 ]] && step doctor 30 figures "$cli" doctor
    if [[ $have_tests -eq 1 ]]; then
        step op-tables 150 check:xunit_status "$tests" "${ops[@]}" -noColor
        step kernel-checks 60 check:xunit_status "$tests" "${kernels[@]}" -noColor
        if [[ $emulated -eq 0 ]] && command -v compute-sanitizer > /dev/null 2>&1; then
            # The pool off: every tensor and temporary its own exact-size cuMemAlloc, so memcheck sees real bounds.
            PROMPTAD_CUDA_POOL=0 step memcheck 100 check:memcheck_status \
                compute-sanitizer --tool memcheck --error-exitcode 99 "$tests" -class "*CudaOpTests*" -noColor
        else
            absent memcheck "compute-sanitizer not available$([[ $emulated -eq 1 ]] && echo " (emulated dry run)")" skipped
        fi
    fi
    if [[ $have_cli -eq 1 ]]; then
        if [[ $emulated -eq 1 ]]; then step profile 150 check:profile_status "$cli" profile "${gpu[@]}" --backbone tiny-test --batches 2 --batch 2
        else step profile 60 check:profile_status "$cli" profile "${gpu[@]}"
        fi
    fi
elif [[ $have_cli -eq 1 ]]; then
    if [[ $emulated -eq 0 ]]; then step bench-gpu 45 figures "$cli" bench gpu
    else absent bench-gpu "bench gpu needs a real GPU (emulated dry run)" skipped
    fi
    step bench-clip 45 figures "$cli" bench clip "${dev[@]}" "${tiny[@]}" --reps 1
    if [[ -n "$bottle" ]]; then
        for precision in fp32 tf32 bf16; do
            if [[ $emulated -eq 1 ]]; then
                if [[ $precision == fp32 ]]; then
                    step bench-e2e-fp32 60 figures "$cli" bench e2e --data "$bottle" "${dev[@]}" "${tiny[@]}" --epochs 1 --test-images 2
                else
                    absent "bench-e2e-$precision" "bench e2e --precision $precision needs a GPU (the CPU computes in fp32)" skipped
                fi
            else
                # tf32 and bf16 run the same work on faster GEMMs: shorter timeouts.
                step "bench-e2e-$precision" "$([[ $precision == fp32 ]] && echo 60 || echo 40)" figures \
                    "$cli" bench e2e --data "$bottle" "${dev[@]}" --precision "$precision"
            fi
        done
        if [[ $emulated -eq 1 ]]; then
            step bench-precision 150 figures "$cli" bench precision --data "$bottle" "${gpu[@]}" --precision bf16 \
                --config tiny-test --epochs 1 --test-images 2 --size 32
        else
            step bench-precision 65 figures "$cli" bench precision --data "$bottle" "${gpu[@]}" --precision bf16 --epochs 20
        fi
    else
        absent bench-e2e "no bottle data: set PROMPTAD_BOTTLE" skipped
        absent bench-precision "no bottle data: set PROMPTAD_BOTTLE" skipped
    fi
    if [[ $emulated -eq 1 ]]; then step bench-serve 40 figures "$cli" bench serve "${dev[@]}" "${tiny[@]}" --requests 8
    else step bench-serve 40 figures "$cli" bench serve "${dev[@]}"
    fi
    # The whole protocol once at full size: random weights (written here: the machine has no .NET and no published
    # weights), bottle, k 1, 2, 4 x 2 seeds, 5 epochs per head so it fits; the step name says the epochs. The weights
    # (about 0.8 GB) go to a temporary folder, not $OUT; the results folder is new each time (a kept one would resume).
    backbone=ViT-B-16-plus-240 run_limit=75 run_extra=()
    # The dry run on the CPU: the tiny backbone, small maps, the loaded machine's longer limit.
    [[ $emulated -eq 1 ]] && backbone=tiny-test run_limit=150 run_extra=(--size 32)
    scratch="$(mktemp -d "${TMPDIR:-/tmp}/promptad-device-check-XXXXXX")"
    trap 'rm -rf "$scratch"' EXIT  # also when the part is cut short
    step weights-random 30 test "$cli" weights random --backbone "$backbone" --out "$scratch/random.safetensors"
    if [[ -z "$bottle" ]]; then
        absent run-bottle-5-epochs "no bottle data: set PROMPTAD_BOTTLE" skipped
    elif [[ ! -f "$scratch/random.safetensors" ]]; then
        absent run-bottle-5-epochs "no random weights: see weights-random.log" failed
    else
        rm -rf "$out/run-bottle"
        step run-bottle-5-epochs "$run_limit" test "$cli" run --weights "$scratch/random.safetensors" --backbone "$backbone" \
            --data "$(dirname "$bottle")" --categories "$(basename "$bottle")" --shots 1,2,4 --seeds 2 --epochs 5 \
            "${dev[@]}" "${run_extra[@]}" --out "$out/run-bottle"
    fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
