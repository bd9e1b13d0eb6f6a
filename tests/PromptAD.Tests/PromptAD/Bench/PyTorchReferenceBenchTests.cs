using PromptAD.Bench;

namespace PromptAD.Tests.Bench;

/// <summary>The shared reference runner says why instead of throwing when the script or python is missing.</summary>
public class PyTorchReferenceBenchTests
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
