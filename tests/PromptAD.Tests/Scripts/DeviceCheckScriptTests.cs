using System.Diagnostics;
using System.Text.Json;
using PromptAD.Tests.Ops;
using PromptAD.Tests.Requirements;

namespace PromptAD.Tests.Scripts;

/// <summary>
/// scripts/device-check.sh's dry run: `part1 --emulated` and `part2 --emulated` each exit 0 and write summary.json
/// with every step's status and log, as a GPU run would (on the emulated GPU and the CPU, tiny-test backbone); part2's
/// whole `run` of bottle on random weights that the script writes with `weights random` leaves its results table.
/// </summary>
public sealed class DeviceCheckScriptTests
{
    [Theory]
    [InlineData("part1", new[] { "doctor", "op-tables", "kernel-checks", "memcheck", "profile" })]
    [InlineData("part2", new[] { "bench-gpu", "bench-clip", "bench-e2e-fp32", "bench-e2e-bf16", "bench-precision", "bench-serve", "weights-random", "run-bottle-5-epochs" })]
    public async Task EachPartRunsEmulatedAndWritesItsSummary(string part, string[] steps)
    {
        string root = EmulatedKernels.RepositoryRoot();
        string cli = Path.Combine(root, "src", "PromptAD", "bin", "Release", "net10.0", "promptad");
        if (!File.Exists(cli)) Assert.Skip($"the dry run uses the Release CLI ({cli}): build the solution in Release first");
        OptionalPart.EmulationCompiler.Require();
        string output = Directory.CreateTempSubdirectory("promptad-device-check-").FullName;
        try
        {
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(Path.Combine(root, "scripts", "device-check.sh"));
            psi.ArgumentList.Add(part);
            psi.ArgumentList.Add("--emulated");
            psi.Environment["OUT"] = output;
            psi.Environment["PROMPTAD_CLI"] = cli;
            psi.Environment["PROMPTAD_TESTS"] = Path.Combine(AppContext.BaseDirectory, "PromptAD.Tests");
            using var p = Process.Start(psi)!;
            var token = TestContext.Current.CancellationToken;
            Task<string> stdoutTask = p.StandardOutput.ReadToEndAsync(token), stderrTask = p.StandardError.ReadToEndAsync(token);
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                limit.CancelAfter(TimeSpan.FromMinutes(8));
                try { await p.WaitForExitAsync(limit.Token); }
                catch (OperationCanceledException)
                {
                    p.Kill(entireProcessTree: true);
                    Assert.Fail($"{part} --emulated ran over 8 minutes");
                }
            }
            string stdout = await stdoutTask, stderr = await stderrTask;
            string summaryPath = Path.Combine(output, "summary.json");
            Assert.True(File.Exists(summaryPath), $"no summary.json:\n{stdout}\n{stderr}");
            using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(summaryPath, token));
            var rootElement = summary.RootElement;
            Assert.Equal(part, rootElement.GetProperty("part").GetString());
            Assert.True(rootElement.GetProperty("emulated").GetBoolean());
            var recorded = rootElement.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s);
            string failures = string.Join("\n", recorded.Values.Where(s => s.GetProperty("status").GetString() == "failed")
                .Select(s => $"{s.GetProperty("name")}: {File.ReadAllText(Path.Combine(output, s.GetProperty("log").GetString()!)).Split('\n').TakeLast(15).Aggregate((a, b) => a + "\n" + b)}"));
            Assert.True(p.ExitCode == 0, $"{part} --emulated exited {p.ExitCode}:\n{stdout}\n{failures}");
            foreach (string step in steps)
            {
                if (step.StartsWith("bench-e2e", StringComparison.Ordinal) || step == "bench-precision")
                    if (!recorded.ContainsKey(step)) continue; // no bottle data on this machine: reported as skipped under another name
                Assert.True(recorded.ContainsKey(step), $"summary.json lacks step {step}: {string.Join(", ", recorded.Keys)}");
                Assert.True(File.Exists(Path.Combine(output, step + ".log")), $"no log for {step}");
            }
            Assert.Equal(0, rootElement.GetProperty("failed").GetInt32());
            if (recorded.TryGetValue("run-bottle-5-epochs", out var run) && run.GetProperty("status").GetString() == "passed")
            {
                // k ∈ {1, 2, 4} × 2 seeds: six runs, each with its metrics.
                Assert.Equal(6, Directory.GetFiles(Path.Combine(output, "run-bottle", "runs"), "metrics.json", SearchOption.AllDirectories).Length);
                Assert.True(File.Exists(Path.Combine(output, "run-bottle", "results.md")), "run-bottle has no results.md");
            }
            Assert.Equal("skipped", recorded["memcheck" is var m && recorded.ContainsKey(m) ? m : "bench-gpu"].GetProperty("status").GetString());
        }
        finally { Directory.Delete(output, recursive: true); }
    }
}
