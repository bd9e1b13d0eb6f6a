using PromptAD.Kernels;
using PromptAD.Kernels.Native;

namespace PromptAD.Tests.Kernels;

/// <summary>The resolver's failure message is the user's only guide to a broken CUDA install, so its content is tested.</summary>
public class KernelLibraryResolverTests
{
    [Fact]
    public void MissingLibraryListsEveryPlaceTriedAndTheFix()
    {
        string empty = Directory.CreateTempSubdirectory("promptad-empty-").FullName;
        string missing = Path.Combine(empty, "no-such-folder");
        try
        {
            var e = Assert.Throws<CudaLibraryNotFoundException>(() =>
                CudaLibraryResolver.Load(CudaLibraryResolver.CublasName, new CudaLibrarySearch(false, [empty, missing])));
            Assert.Equal(2, e.PlacesTried.Count);
            Assert.Contains(empty, e.Message);
            Assert.Contains(missing + " (folder does not exist)", e.Message);
            foreach (string name in CudaLibraryResolver.CandidateNames(CudaLibraryResolver.CublasName))
                Assert.Contains(name, e.Message);
            Assert.Contains("cuBLAS", e.Message);
            Assert.Contains("nvidia-cublas-cu12", e.Message);
            Assert.Contains("CUDA_PATH", e.Message);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void EmptySearchSaysSo()
    {
        var e = Assert.Throws<CudaLibraryNotFoundException>(() =>
            CudaLibraryResolver.Load(CudaLibraryResolver.NvrtcName, new CudaLibrarySearch(false, [])));
        Assert.Empty(e.PlacesTried);
        Assert.Contains("(none", e.Message);
        Assert.Contains("NVRTC", e.Message);
        Assert.Contains("How to fix", e.Message);
    }

    [Fact]
    public void UnloadableFileIsReportedAsSuch()
    {
        string dir = Directory.CreateTempSubdirectory("promptad-fake-").FullName;
        try
        {
            string fake = Path.Combine(dir, CudaLibraryResolver.CandidateNames(CudaLibraryResolver.CudaName)[0]);
            File.WriteAllText(fake, "not a shared library");
            var e = Assert.Throws<CudaLibraryNotFoundException>(() =>
                CudaLibraryResolver.Load(CudaLibraryResolver.CudaName, new CudaLibrarySearch(false, [dir])));
            Assert.Contains(fake + " (present but failed to load", e.Message);
            Assert.Contains("driver", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void DefaultSearchIncludesCudaPathAndLoaderPath()
    {
        CudaLibrarySearch search = CudaLibrarySearch.Default();
        Assert.True(search.UseDefaultSearch);
        string? cudaPath = Environment.GetEnvironmentVariable("CUDA_PATH");
        if (!string.IsNullOrEmpty(cudaPath)) Assert.Contains(Path.Combine(cudaPath, "lib64"), search.Directories);
        if (!OperatingSystem.IsWindows()) Assert.Contains("/usr/local/cuda/lib64", search.Directories);
    }

    [Fact]
    public void UnknownLogicalNameIsRejected() =>
        Assert.Throws<ArgumentException>(() => CudaLibraryResolver.CandidateNames("cudnn"));

    [Fact]
    public void DoctorReportNeverThrows()
    {
        string report = CudaDoctor.Report();
        Assert.Contains("CUDA driver:", report);
        Assert.Contains("cuBLAS:", report);
        Assert.Contains("NVRTC:", report);
    }
}
