using PromptAD.Kernels;
using PromptAD.Tests.Ops;
using PromptAD.Tests.Requirements;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// Registers × threads and shared memory per block, from NVRTC-compiled cubins (ptxas' own report), against the block
/// limits of sm_80 and sm_90 for every launch shape the backend uses (every shape the op table launches on the
/// emulated GPU); a planted register-heavy kernel at 1024 threads must be refused.
/// </summary>
public sealed class KernelResourceLimitTests
{
    [Theory]
    [InlineData(80)]
    [InlineData(90)]
    public void EveryLaunchShapeFitsTheBlockLimits(int architecture)
    {
        OptionalPart.Nvrtc.Require();
        var shapes = EmulatedScheduleTests.OpTableLaunchShapes;
        var byKernel = new Dictionary<string, KernelResource>();
        foreach (string file in KernelSources.Files)
            foreach (var r in KernelResources.Measure(file, KernelSources.Read(file), architecture))
                byKernel[r.Kernel] = r;
        Assert.Equal(KernelCatalog.EntriesByFile.Values.SelectMany(e => e).Order(), byKernel.Keys.Order()); // ptxas reported every kernel
        var violations = new List<string>();
        foreach (var (kernel, threads, shared) in shapes)
        {
            Assert.True(byKernel.TryGetValue(kernel, out var r), $"launched {kernel}, which no kernel file compiles");
            if (KernelResources.Violation(r!, threads, shared) is { } v) violations.Add(v);
        }
        // Kernels the op table does not launch are held to the backend's usual 256 threads.
        foreach (var r in byKernel.Values.Where(r => !shapes.Any(s => s.Kernel == r.Kernel)))
            if (KernelResources.Violation(r, 256, 0) is { } v) violations.Add(v + " (not launched by the op table; checked at 256 threads)");
        Assert.True(violations.Count == 0, string.Join("\n", violations));
        Assert.NotEmpty(shapes);
    }

    [Fact]
    public void APlantedRegisterHeavyKernelIsRefusedAt1024Threads()
    {
        OptionalPart.Nvrtc.Require();
        string path = Path.Combine(EmulatedKernels.RepositoryRoot(), "tests", "PromptAD.Tests", "Kernels", "Planted", "planted.cu");
        var heavy = KernelResources.Measure("planted.cu", File.ReadAllText(path), 80).Single(r => r.Kernel == "planted_register_heavy");
        Assert.InRange(heavy.Registers, 65, KernelResources.MaxRegistersPerThread);
        string? v = KernelResources.Violation(heavy, 1024, 0);
        Assert.NotNull(v);
        Assert.Contains("planted_register_heavy (sm_80)", v);
        Assert.Contains("over the 65536 limit", v);
        Assert.Null(KernelResources.Violation(heavy, 256, 0));
        Assert.Contains("shared memory", KernelResources.Violation(heavy, 32, 49 * 1024));
    }

    [Fact]
    public void PtxasReportsAreParsed()
    {
        const string log = "ptxas info    : Compiling entry function 'a_kernel' for 'sm_80'\nptxas info    : Function properties for a_kernel\n" +
                           "ptxas info    : Used 29 registers, 128 bytes smem, 408 bytes cmem[0]\n" +
                           "ptxas info    : Compiling entry function 'b' for 'sm_80'\nptxas info    : Used 119 registers, 372 bytes cmem[0]\n";
        Assert.Equal([new KernelResource("a_kernel", 80, 29, 128), new KernelResource("b", 80, 119, 0)], KernelResources.Parse(log, 80));
        Assert.Equal(1024 / 32 * 1024, KernelResources.BlockRegisters(29, 1024)); // 29 × 32 = 928 → 1024 per warp
    }
}
