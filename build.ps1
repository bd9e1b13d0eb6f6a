#!/usr/bin/env pwsh
# PromptAD build entry point. Run through the pinned tool: `dotnet tool restore; dotnet pwsh build.ps1 <target>`.
#   build    Release build of the whole solution
#   test     every test (xunit.v3 executable); extra arguments go to the xunit runner, e.g. -class "*CpuOpTests*"
#   bench    our benchmarks side by side with the PyTorch reference (tools/PromptAD.DevBench: same machine, same run):
#            `bench gemm`, `bench clip`, `bench e2e`, `bench all`; extra arguments go to the suite
#   device   artifacts/device.tgz for scripts/device-check.sh on a GPU machine without .NET (tests + CLI, published)
#   publish  the NativeAOT `promptad` executable into artifacts/publish (-Isa x86-64-v4|native for AVX-512)
param(
    [Parameter(Position = 0)][ValidateSet('build', 'test', 'bench', 'publish', 'device')][string]$Target = 'build',
    [string]$Isa = 'x86-64-v3',
    [Parameter(Position = 1, ValueFromRemainingArguments = $true)][string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Checked([string]$exe, [string[]]$arguments) {
    & $exe @arguments
    if ($LASTEXITCODE -ne 0) { throw "$exe $($arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

switch ($Target) {
    'build' { Invoke-Checked dotnet @('build', 'PromptAD.sln', '-c', 'Release') }
    'test' {
        Invoke-Checked dotnet @('build', 'PromptAD.sln', '-c', 'Release')
        $log = New-TemporaryFile
        & dotnet run --no-build -c Release --project tests/PromptAD.Tests -- -noColor @Rest | Tee-Object -FilePath $log
        $code = $LASTEXITCODE
        # The xunit summary line reads "Total: N, Errors: E, Failed: F, Skipped: S, Not Run: X"; CI reads the plain
        # "N passed, N failed" line, so print one (skipped tests are reported, never counted as passed).
        $summary = Select-String -Path $log -Pattern 'Total: (\d+), Errors: (\d+), Failed: (\d+), Skipped: (\d+), Not Run: (\d+)' | Select-Object -Last 1
        Remove-Item $log
        if ($summary) {
            $g = $summary.Matches[0].Groups
            $total = [int]$g[1].Value; $errors = [int]$g[2].Value; $failed = [int]$g[3].Value; $skipped = [int]$g[4].Value; $notRun = [int]$g[5].Value
            $passed = $total - $failed - $skipped - $notRun
            Write-Output ""
            Write-Output "tests: $passed passed, $($failed + $errors) failed, $skipped skipped"
            if ($total -eq 0) { throw 'the test run executed no test' }
        }
        if ($code -ne 0) { throw "tests failed (exit code $code)" }
    }
    'bench' {
        $what = if ($Rest.Count -gt 0) { $Rest } else { @('all') }
        Invoke-Checked dotnet (@('run', '-c', 'Release', '--project', 'tools/PromptAD.DevBench', '--') + $what)
    }
    'device' {
        Remove-Item -Recurse -Force artifacts/device, artifacts/device.tgz -ErrorAction SilentlyContinue
        Invoke-Checked dotnet @('publish', 'tests/PromptAD.Tests', '-c', 'Release', '-r', 'linux-x64', '--self-contained', '-o', 'artifacts/device/tests')
        Invoke-Checked dotnet @('publish', 'src/PromptAD', '-c', 'Release', '-r', 'linux-x64', '-o', 'artifacts/device/cli')
        Invoke-Checked tar @('czf', 'artifacts/device.tgz', '--exclude=*.dbg', '--exclude=*.pdb', '-C', 'artifacts', 'device')
        Write-Output "packed: artifacts/device.tgz (carry it to the GPU machine, then: OUT=dir bash scripts/device-check.sh part1, then part2)"
    }
    'publish' {
        Invoke-Checked dotnet @('publish', 'src/PromptAD', '-c', 'Release', '-r', 'linux-x64', "-p:IlcInstructionSet=$Isa", '-o', 'artifacts/publish')
        Write-Output "published: artifacts/publish/promptad"
    }
}
