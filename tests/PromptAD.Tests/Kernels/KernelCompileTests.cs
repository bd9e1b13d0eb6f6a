using System.Text.RegularExpressions;
using PromptAD.Kernels;
using PromptAD.Tests.Requirements;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// Every embedded kernel file compiles with NVRTC, without a single warning, for the architectures we ship PTX for,
/// and its PTX exports every entry point the backend names. Needs NVRTC only, no GPU.
/// </summary>
public partial class KernelCompileTests
{
    public static TheoryData<string, int> FilesAndArchitectures()
    {
        var data = new TheoryData<string, int>();
        foreach (string file in KernelSources.Files)
            foreach (int arch in new[] { 80, 90 })
                data.Add(file, arch);
        return data;
    }

    [Theory]
    [MemberData(nameof(FilesAndArchitectures))]
    public void CompilesWithoutWarningsAndExportsEveryEntry(string file, int architecture)
    {
        OptionalPart.Nvrtc.Require();
        CompiledPtx result;
        try
        {
            result = KernelCompiler.Compile(file, KernelSources.Read(file), architecture, KernelSources.Headers, warningsAsErrors: false);
        }
        catch (NvrtcException e)
        {
            Assert.Fail($"{file} failed to compile for compute_{architecture}:\n{e.Message}");
            return;
        }
        Assert.True(result.Log.Trim().Length == 0, $"{file} compiled for compute_{architecture} with a non-empty log:\n{result.Log}");

        var expected = new HashSet<string>(ExternNames().Matches(KernelSources.Read(file)).Select(m => m.Groups[1].Value), StringComparer.Ordinal);
        Assert.True(KernelCatalog.EntriesByFile.TryGetValue(file, out string[]? catalogued), $"{file} is missing from KernelCatalog.EntriesByFile.");
        expected.UnionWith(catalogued!);
        Assert.NotEmpty(expected);
        foreach (string entry in expected)
            Assert.True(result.Ptx.Contains($".entry {entry}(", StringComparison.Ordinal),
                $"PTX of {file} (compute_{architecture}) has no '.entry {entry}(' (renamed, or not extern \"C\"?).");
    }

    [Fact]
    public void CatalogAndEmbeddedFilesAgree()
    {
        Assert.Equal(KernelCatalog.EntriesByFile.Keys.Order(StringComparer.Ordinal), KernelSources.Files);
        Assert.Contains("common.cuh", KernelSources.Headers.Keys);
        foreach (string file in KernelSources.Files)
        {
            string[] declared = ExternNames().Matches(KernelSources.Read(file)).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(KernelCatalog.EntriesByFile[file].Order(StringComparer.Ordinal), declared);
        }
    }

    [Fact]
    public void BrokenSourceThrowsWithFileNameAndLog()
    {
        OptionalPart.Nvrtc.Require();
        const string source = "extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }\n";
        var e = Assert.Throws<NvrtcException>(() => KernelCompiler.Compile("broken_test.cu", source, 80));
        Assert.Contains("broken_test.cu", e.Message);
        Assert.Contains("undefined_name", e.Message);
        Assert.Contains("NVRTC_ERROR_COMPILATION", e.Message);
        Assert.Contains("undefined_name", e.Log);
    }

    [Fact]
    public void WarningsAreErrors()
    {
        OptionalPart.Nvrtc.Require();
        const string source = "extern \"C\" __global__ void warns(float* x) { int unused_local; x[0] = 1.0f; }\n";
        var e = Assert.Throws<NvrtcException>(() => KernelCompiler.Compile("warns_test.cu", source, 80));
        Assert.Contains("warnings are errors", e.Message);
        Assert.Contains("unused_local", e.Log);
        Assert.Contains("warns_test.cu", e.Message);
    }

    [Fact]
    public void PtxIsCachedOnDiskByContentHash()
    {
        OptionalPart.Nvrtc.Require();
        string dir = Path.Combine(Path.GetTempPath(), "promptad-ptx-" + Guid.NewGuid().ToString("N"));
        try
        {
            var compiler = new KernelCompiler(dir);
            string first = compiler.GetPtx(KernelCatalog.Gelu.File, 80);
            string file = Assert.Single(Directory.GetFiles(dir));
            Assert.Matches("^[0-9a-f]{64}_80\\.ptx$", Path.GetFileName(file));
            File.WriteAllText(file, first + "// from cache\n");
            Assert.EndsWith("// from cache\n", compiler.GetPtx(KernelCatalog.Gelu.File, 80), StringComparison.Ordinal);
            Assert.Contains(80, compiler.SupportedArchitectures());
            Assert.Equal(80, compiler.ChooseArchitecture(80));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [GeneratedRegex(@"extern\s+""C""\s+__global__\s+void\s+(\w+)\s*\(")]
    private static partial Regex ExternNames();
}
