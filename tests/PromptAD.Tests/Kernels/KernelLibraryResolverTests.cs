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

    [Theory]
    [InlineData("libcublas.so.13", 13)]
    [InlineData("libnvrtc.so.11.2", 11)]
    [InlineData("nvrtc64_120_0.dll", 12)]
    [InlineData("cublas64_12.dll", 12)]
    [InlineData("libcublas.so", null)]
    public void LibraryNamesGiveTheirCudaMajor(string name, int? major) => Assert.Equal(major, CudaLibraryResolver.NameMajor(name));

    [Fact]
    public void OnlyMajorsTheDriverRunsAreTried()
    {
        var forDriver12 = CudaLibraryResolver.CandidateNames(CudaLibraryResolver.NvrtcName, 12);
        Assert.DoesNotContain(forDriver12, n => n.Contains(".so.13") || n.Contains("_130_"));
        Assert.Contains(forDriver12, n => n.Contains(".so.12") || n.Contains("_120_"));
        Assert.Equal(CudaLibraryResolver.CandidateNames(CudaLibraryResolver.CublasName), CudaLibraryResolver.CandidateNames(CudaLibraryResolver.CublasName, 0));
        Assert.DoesNotContain(CudaLibraryResolver.CandidateNames(CudaLibraryResolver.CublasName, 11), n => CudaLibraryResolver.NameMajor(n) > 11);
    }

    [Fact]
    public void VersionedToolkitFoldersSortNewestFirst()
    {
        string[] dirs = ["/usr/local/cuda", "/usr/local/cuda-11.8", "/usr/local/cuda-12.4", "/usr/local/cuda-12.10"];
        Assert.Equal(["/usr/local/cuda-12.10", "/usr/local/cuda-12.4", "/usr/local/cuda-11.8", "/usr/local/cuda"],
            dirs.OrderByDescending(CudaLibrarySearch.ToolkitVersion));
        if (!OperatingSystem.IsWindows()) Assert.Contains("/usr/local/cuda/lib64", CudaLibrarySearch.Default().Directories);
    }

    [Theory]
    [InlineData(12, 8, 12040, false)] // minor-version compatibility: a newer minor's cubin loads
    [InlineData(13, 0, 12090, true)]
    [InlineData(11, 2, 0, false)] // no driver: nothing to check
    public void ACubinOfANewerMajorThanTheDriverIsRefusedWithTheFix(int major, int minor, int driver, bool refused)
    {
        string? message = KernelCompiler.CubinDriverMismatch((major, minor), driver);
        Assert.Equal(refused, message is not null);
        if (refused) Assert.Contains("install a driver for CUDA 13 or an NVRTC of major 12", message);
    }
}
