using PromptAD.Kernels;
using PromptAD.Tensors;

namespace PromptAD.Tests.Ops;

/// <summary><see cref="PrecisionOpTests.GemmOps"/> names exactly the op table cases that run a GEMM on the GPU backend
/// (counted on the emulated GPU), so the precision tests cover every GEMM path and only those.</summary>
public sealed class GemmCaseTests
{
    [Fact]
    public void TheGemmCasesAreExactlyTheCasesThatRunAGemm()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var be = new CudaBackend(runtime, ownsRuntime: false);
        var wrong = new List<string>();
        foreach (var c in OpTable.All)
        {
            var inputs = c.MakeInputs();
            using var scope = TensorScope.Open();
            long before = runtime.Counters.Snapshot().Gemms;
            c.Run(BackendOpTests.Upload(be, c, inputs, requireGrad: false)).ToArray();
            bool runsGemm = runtime.Counters.Snapshot().Gemms > before;
            if (runsGemm != PrecisionOpTests.IsGemmCase(c.Name)) wrong.Add($"{c.Name} ({(runsGemm ? "runs" : "runs no")} GEMM)");
        }
        Assert.True(wrong.Count == 0, $"GemmOps is out of date: {string.Join(", ", wrong)}");
    }
}
