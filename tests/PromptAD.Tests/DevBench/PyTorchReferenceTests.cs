using PromptAD.DevBench;

namespace PromptAD.Tests.DevBench;

/// <summary>The shared reference runner says why instead of throwing when the script or python is missing.</summary>
public class PyTorchReferenceTests
{
    [Fact]
    public void FindsTheRepositoryAndItsReferenceScripts()
    {
        string? root = PyTorchReference.RepoRoot();
        Assert.NotNull(root);
        Assert.True(File.Exists(Path.Combine(root, "PromptAD.sln")));
        Assert.True(File.Exists(Path.Combine(root, "tests", "reference", "bench_gemm.py")));
    }

    [Fact]
    public void MissingScript_IsUnavailableWithReason()
    {
        Assert.False(PyTorchReference.TryRun("no_such_reference.py", [], [], out var results, out string why));
        Assert.Null(results);
        Assert.Contains("no_such_reference.py not found", why);
    }

    [Fact]
    public void MissingPython_IsUnavailableWithReason()
    {
        Assert.False(PyTorchReference.TryRun("bench_gemm.py", [], ["--python", "/no/such/python3"], out _, out string why));
        Assert.Contains("/no/such/python3 not found", why);
    }
}

/// <summary>The development benchmark's command line: suites, usage errors, and the reference's absence reported.</summary>
[Collection("Console")]
public class DevBenchProgramTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(() => PromptAD.DevBench.Program.Main(args));

    [Fact]
    public void Clip_WithoutPython_PrintsOursAndSaysWhyTheReferenceIsMissing()
    {
        var (code, output, err) = Run("clip", "--config", "tiny-test", "--reps", "1", "--python", "/no/such/python3");
        Assert.True(code == 0, err);
        Assert.Contains("PyTorch reference unavailable: /no/such/python3 not found", output);
        Assert.Contains("image_b8_images_per_s", output);
    }

    [Fact]
    public void NoSuiteOrAnUnknownOne_IsAUsageError()
    {
        Assert.Equal(2, Run().Code);
        var (code, _, err) = Run("nope");
        Assert.Equal(2, code);
        Assert.Contains("unknown suite 'nope'", err);
    }
}
