using System.Text;
using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>
/// The text of <c>promptad doctor</c>: what CUDA pieces this machine has. Never throws for a missing or broken
/// piece; it says what is missing and how to fix it, because the point is to diagnose exactly those machines.
/// </summary>
public static class CudaDoctor
{
    public static string Report()
    {
        var text = new StringBuilder();
        ReportDriver(text);
        ReportCublas(text);
        ReportNvrtc(text);
        text.Append("NVTX (optional, Nsight ranges): ").AppendLine(
            CudaLibraryResolver.TryRequire(CudaLibraryResolver.NvtxName, out var nvtx, out _) ? nvtx!.Path : "not found (ops run unannotated)");
        text.Append("PTX cache: ").AppendLine(KernelCompiler.DefaultCacheDirectory());
        return text.ToString();
    }

    private static void ReportDriver(StringBuilder text)
    {
        text.AppendLine("CUDA driver:");
        if (!Section(text, CudaLibraryResolver.CudaName)) return;
        Try(text, () =>
        {
            CudaException.Check(CudaDriver.cuInit(0), "cuInit");
            CudaException.Check(CudaDriver.cuDriverGetVersion(out int version), "cuDriverGetVersion");
            text.AppendLine($"  driver API version: {version / 1000}.{version % 1000 / 10}");
            CudaException.Check(CudaDriver.cuDeviceGetCount(out int count), "cuDeviceGetCount");
            text.AppendLine($"  devices: {count}");
            for (int ordinal = 0; ordinal < count; ordinal++)
            {
                CudaException.Check(CudaDriver.cuDeviceGet(out int device, ordinal), "cuDeviceGet");
                int Attr(CUdeviceAttribute a)
                {
                    CudaException.Check(CudaDriver.cuDeviceGetAttribute(out int v, a, device), "cuDeviceGetAttribute");
                    return v;
                }
                double gib = CudaContext.GetTotalMemory(device) / (1024.0 * 1024 * 1024);
                text.AppendLine($"  [{ordinal}] {CudaContext.GetDeviceName(device)}: compute capability " +
                    $"{Attr(CUdeviceAttribute.ComputeCapabilityMajor)}.{Attr(CUdeviceAttribute.ComputeCapabilityMinor)}, " +
                    $"{gib:F1} GiB, {Attr(CUdeviceAttribute.MultiprocessorCount)} SMs, " +
                    $"{Attr(CUdeviceAttribute.MaxSharedMemoryPerBlockOptin) / 1024} KiB shared memory per block (opt-in)");
            }
        });
    }

    private static void ReportCublas(StringBuilder text)
    {
        text.AppendLine("cuBLAS:");
        if (!Section(text, CudaLibraryResolver.CublasName)) return;
        Try(text, () =>
        {
            CublasException.Check(Cublas.cublasGetProperty(0, out int major), "cublasGetProperty");
            CublasException.Check(Cublas.cublasGetProperty(1, out int minor), "cublasGetProperty");
            CublasException.Check(Cublas.cublasGetProperty(2, out int patch), "cublasGetProperty");
            text.AppendLine($"  version: {major}.{minor}.{patch}");
        });
    }

    private static void ReportNvrtc(StringBuilder text)
    {
        text.AppendLine("NVRTC:");
        if (!Section(text, CudaLibraryResolver.NvrtcName)) return;
        Try(text, () =>
        {
            var compiler = new KernelCompiler();
            text.AppendLine($"  version: {compiler.NvrtcVersion.Major}.{compiler.NvrtcVersion.Minor}");
            text.AppendLine($"  architectures: compute_{string.Join(", compute_", compiler.SupportedArchitectures())}");
        });
    }

    // Loads the library and prints where it came from, or prints the resolver's explanation; true when loaded.
    private static bool Section(StringBuilder text, string logical)
    {
        if (CudaLibraryResolver.TryRequire(logical, out CudaLibraryResolver.LoadedLibrary? lib, out CudaLibraryNotFoundException? error))
        {
            text.AppendLine($"  library: {lib!.Path}");
            return true;
        }
        text.AppendLine("  NOT FOUND. " + error!.Message.Replace("\n", "\n  ", StringComparison.Ordinal));
        return false;
    }

    private static void Try(StringBuilder text, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is CudaException or CublasException or NvrtcException or EntryPointNotFoundException or NotSupportedException)
        {
            text.AppendLine("  error: " + e.Message.Replace("\n", "\n  ", StringComparison.Ordinal));
        }
    }
}
