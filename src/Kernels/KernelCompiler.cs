using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>
/// One compilation: PTX for a virtual architecture, or (<see cref="Cubin"/> not null) machine code for a real one,
/// with NVRTC's log (empty when there were no warnings).
/// </summary>
public sealed record CompiledPtx(string FileName, int Architecture, string Ptx, string Log, byte[]? Cubin = null)
{
    /// <summary>What the driver loads: the cubin when there is one, else the PTX (NUL-terminated).</summary>
    public byte[] Image => Cubin ?? Encoding.UTF8.GetBytes(Ptx + "\0");
}

/// <summary>
/// Compiles the embedded CUDA C kernels with NVRTC and caches the result on disk: a cubin for the device's own
/// architecture when this NVRTC knows it (no JIT at load, and no PTX-version dependence on the driver), PTX for the
/// newest architecture below it otherwise (the driver JIT-compiles it; a driver older than the NVRTC refuses it, which
/// <see cref="DriverMismatch"/> explains). A non-empty log fails the compile in CI (KernelCompileTests); at run time
/// it is only written to standard error.
/// </summary>
public sealed class KernelCompiler
{
    public KernelCompiler(string? cacheDirectory = null)
    {
        CudaLibraryResolver.Require(CudaLibraryResolver.NvrtcName);
        NvrtcException.Check(Nvrtc.nvrtcVersion(out int major, out int minor), "nvrtcVersion");
        NvrtcVersion = (major, minor);
        CacheDirectory = cacheDirectory ?? DefaultCacheDirectory();
    }

    public (int Major, int Minor) NvrtcVersion { get; }

    /// <summary>Where PTX is cached; null disables the disk cache.</summary>
    public string? CacheDirectory { get; }

    /// <summary>$PROMPTAD_CACHE/kernels, else $XDG_CACHE_HOME/promptad/kernels, else ~/.cache/promptad/kernels.</summary>
    public static string DefaultCacheDirectory()
    {
        string? root = Environment.GetEnvironmentVariable("PROMPTAD_CACHE");
        if (!string.IsNullOrEmpty(root)) return Path.Combine(root, "kernels");
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string cache = !string.IsNullOrEmpty(xdg) ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "promptad", "kernels");
    }

    /// <summary>The NVRTC options for a virtual architecture (80 means compute_80), or a real one (sm_80) for a cubin.</summary>
    public static IReadOnlyList<string> Options(int architecture, bool cubin = false) =>
        [$"--gpu-architecture={(cubin ? "sm" : "compute")}_{architecture}", "-default-device", "--std=c++17", "-lineinfo"];

    /// <summary>
    /// Why the driver cannot load this NVRTC's PTX, or null when it can: PTX carries the NVRTC's ISA version and a
    /// driver older than the compiler refuses it (CUDA_ERROR_UNSUPPORTED_PTX_VERSION). Versions as the APIs give them
    /// (driver 12040 = CUDA 12.4).
    /// </summary>
    public static string? DriverMismatch((int Major, int Minor) nvrtc, int driverVersion)
    {
        int driverMajor = driverVersion / 1000, driverMinor = driverVersion % 1000 / 10;
        if (nvrtc.Major * 1000 + nvrtc.Minor * 10 <= driverVersion) return null;
        return $"NVRTC {nvrtc.Major}.{nvrtc.Minor} is newer than this driver (CUDA {driverMajor}.{driverMinor}), which refuses its PTX: " +
            $"install a driver for CUDA {nvrtc.Major}.{nvrtc.Minor} or later, or an NVRTC no newer than {driverMajor}.{driverMinor} " +
            $"(libnvrtc.so.{driverMajor} from the CUDA {driverMajor}.{driverMinor} toolkit or its pip wheel nvidia-cuda-nvrtc-cu{driverMajor}).";
    }

    /// <summary>
    /// Why the driver cannot load this NVRTC's cubins, or null when it can: within one CUDA major a cubin from a newer
    /// minor loads (minor-version compatibility), a newer major's does not.
    /// </summary>
    public static string? CubinDriverMismatch((int Major, int Minor) nvrtc, int driverVersion)
    {
        int driverMajor = driverVersion / 1000;
        if (driverVersion <= 0 || nvrtc.Major <= driverMajor) return null;
        return $"NVRTC {nvrtc.Major}.{nvrtc.Minor} builds cubins for CUDA {nvrtc.Major}, which this driver (CUDA {driverMajor}.{driverVersion % 1000 / 10}) " +
            $"cannot load: install a driver for CUDA {nvrtc.Major} or an NVRTC of major {driverMajor} (libnvrtc.so.{driverMajor}, pip nvidia-cuda-nvrtc-cu{driverMajor}).";
    }

    /// <summary>
    /// The module image of an embedded kernel file for a device: a cubin for its exact architecture when this NVRTC
    /// supports it, else PTX for the newest supported architecture below it (checked against the driver version).
    /// From the disk cache when possible.
    /// </summary>
    public byte[] GetImage(string kernelFile, int computeCapability, int driverVersion, out string description)
    {
        bool cubin = SupportedArchitectures().Contains(computeCapability);
        int arch = cubin ? computeCapability : ChooseArchitecture(computeCapability);
        if (!cubin && DriverMismatch(NvrtcVersion, driverVersion) is { } mismatch)
            throw new NotSupportedException($"{kernelFile}: compute capability {computeCapability / 10}.{computeCapability % 10} needs PTX from NVRTC; {mismatch}");
        if (cubin && CubinDriverMismatch(NvrtcVersion, driverVersion) is { } refused)
            throw new NotSupportedException($"{kernelFile}: {refused}");
        description = $"{kernelFile} ({(cubin ? "sm" : "compute")}_{arch})";
        string source = KernelSources.Read(kernelFile);
        string? cachePath = CacheDirectory is null ? null
            : Path.Combine(CacheDirectory, $"{CacheKey(source, KernelSources.Headers, arch, cubin)}_{arch}.{(cubin ? "cubin" : "ptx")}");
        if (cachePath is not null && TryReadCacheBytes(cachePath) is { } cached) return cached;
        var compiled = Compile(kernelFile, source, arch, KernelSources.Headers, warningsAsErrors: false, cubin);
        if (compiled.Log.Trim().Length > 0) Console.Error.WriteLine($"promptad: warning: NVRTC on {description}:\n{compiled.Log.Trim()}");
        byte[] image = compiled.Image;
        if (cachePath is not null) TryWriteCache(cachePath, image);
        return image;
    }

    /// <summary>The architectures this NVRTC can target (e.g. 35..90 for 11.8).</summary>
    public unsafe int[] SupportedArchitectures()
    {
        NvrtcException.Check(Nvrtc.nvrtcGetNumSupportedArchs(out int count), "nvrtcGetNumSupportedArchs");
        var archs = new int[count];
        fixed (int* p = archs) NvrtcException.Check(Nvrtc.nvrtcGetSupportedArchs(p), "nvrtcGetSupportedArchs");
        return archs;
    }

    /// <summary>
    /// The newest architecture this NVRTC supports that does not exceed the device's compute capability: a device
    /// newer than the compiler runs compute_XX PTX through the driver's JIT.
    /// </summary>
    public int ChooseArchitecture(int computeCapability)
    {
        int[] supported = SupportedArchitectures();
        int best = supported.Where(a => a <= computeCapability).DefaultIfEmpty(-1).Max();
        if (best < 0)
            throw new NotSupportedException($"NVRTC {NvrtcVersion.Major}.{NvrtcVersion.Minor} cannot target compute capability " +
                $"{computeCapability / 10}.{computeCapability % 10} (it supports {string.Join(", ", supported)}).");
        return best;
    }

    /// <summary>PTX of an embedded kernel file for an architecture, from the disk cache when possible.</summary>
    public string GetPtx(string kernelFile, int architecture)
    {
        string source = KernelSources.Read(kernelFile);
        string? cachePath = CacheDirectory is null ? null
            : Path.Combine(CacheDirectory, $"{CacheKey(source, KernelSources.Headers, architecture)}_{architecture}.ptx");
        if (cachePath is not null && TryReadCache(cachePath) is { } cached) return cached;
        string ptx = Compile(kernelFile, source, architecture, KernelSources.Headers).Ptx;
        if (cachePath is not null) TryWriteCache(cachePath, Encoding.UTF8.GetBytes(ptx));
        return ptx;
    }

    /// <summary>
    /// Compiles CUDA C to PTX. Throws <see cref="NvrtcException"/> (with the file name and full log) when compilation
    /// fails, or when it succeeds with warnings and <paramref name="warningsAsErrors"/> is set.
    /// </summary>
    public static unsafe CompiledPtx Compile(string fileName, string source, int architecture,
        IReadOnlyDictionary<string, string>? headers = null, bool warningsAsErrors = true, bool cubin = false,
        IReadOnlyList<string>? extraOptions = null)
    {
        CudaLibraryResolver.Require(CudaLibraryResolver.NvrtcName);
        headers ??= new Dictionary<string, string>();
        var pinned = new List<GCHandle>();
        try
        {
            byte* Utf8(string s)
            {
                var handle = GCHandle.Alloc(Encoding.UTF8.GetBytes(s + "\0"), GCHandleType.Pinned);
                pinned.Add(handle);
                return (byte*)handle.AddrOfPinnedObject();
            }

            string[] headerNames = headers.Keys.Order(StringComparer.Ordinal).ToArray();
            byte** headerTexts = stackalloc byte*[Math.Max(1, headerNames.Length)];
            byte** includeNames = stackalloc byte*[Math.Max(1, headerNames.Length)];
            for (int i = 0; i < headerNames.Length; i++)
            {
                headerTexts[i] = Utf8(headers[headerNames[i]]);
                includeNames[i] = Utf8(headerNames[i]);
            }
            IReadOnlyList<string> options = [.. Options(architecture, cubin), .. extraOptions ?? []];
            byte** optionPtrs = stackalloc byte*[options.Count];
            for (int i = 0; i < options.Count; i++) optionPtrs[i] = Utf8(options[i]);

            NvrtcException.Check(Nvrtc.nvrtcCreateProgram(out nint program, Utf8(source), Utf8(fileName),
                headerNames.Length, headerTexts, includeNames), "nvrtcCreateProgram", fileName);
            try
            {
                NvrtcResult compiled = Nvrtc.nvrtcCompileProgram(program, options.Count, optionPtrs);
                string log = ReadLog(program, fileName);
                if (compiled != NvrtcResult.Success)
                    throw new NvrtcException("nvrtcCompileProgram", compiled, fileName, log);
                if (warningsAsErrors && !string.IsNullOrWhiteSpace(log))
                    throw new NvrtcException("nvrtcCompileProgram (warnings are errors)", NvrtcResult.Compilation, fileName, log);

                if (cubin)
                {
                    NvrtcException.Check(Nvrtc.nvrtcGetCUBINSize(program, out nuint cubinSize), "nvrtcGetCUBINSize", fileName);
                    var machineCode = new byte[(int)cubinSize];
                    fixed (byte* p = machineCode) NvrtcException.Check(Nvrtc.nvrtcGetCUBIN(program, p), "nvrtcGetCUBIN", fileName);
                    return new CompiledPtx(fileName, architecture, "", log, machineCode);
                }
                NvrtcException.Check(Nvrtc.nvrtcGetPTXSize(program, out nuint size), "nvrtcGetPTXSize", fileName);
                var ptx = new byte[(int)size];
                fixed (byte* p = ptx) NvrtcException.Check(Nvrtc.nvrtcGetPTX(program, p), "nvrtcGetPTX", fileName);
                return new CompiledPtx(fileName, architecture, Encoding.UTF8.GetString(ptx).TrimEnd('\0'), log);
            }
            finally
            {
                Nvrtc.nvrtcDestroyProgram(ref program);
            }
        }
        finally
        {
            foreach (GCHandle handle in pinned) handle.Free();
        }
    }

    private static unsafe string ReadLog(nint program, string fileName)
    {
        NvrtcException.Check(Nvrtc.nvrtcGetProgramLogSize(program, out nuint size), "nvrtcGetProgramLogSize", fileName);
        if (size <= 1) return "";
        var log = new byte[(int)size];
        fixed (byte* p = log) NvrtcException.Check(Nvrtc.nvrtcGetProgramLog(program, p), "nvrtcGetProgramLog", fileName);
        return Encoding.UTF8.GetString(log).TrimEnd('\0');
    }

    // The key covers everything that changes the PTX: source, headers, options and the compiler version.
    private string CacheKey(string source, IReadOnlyDictionary<string, string> headers, int architecture, bool cubin = false)
    {
        var text = new StringBuilder(source);
        foreach (string name in headers.Keys.Order(StringComparer.Ordinal)) text.Append('\0').Append(name).Append('\0').Append(headers[name]);
        text.Append('\0').Append(string.Join(' ', Options(architecture, cubin)));
        text.Append("\0nvrtc ").Append(NvrtcVersion.Major).Append('.').Append(NvrtcVersion.Minor);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static string? TryReadCache(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // an unreadable cache only costs a recompile
        }
    }

    private static byte[]? TryReadCacheBytes(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // Write to a unique temp file and rename, so concurrent processes never read a half-written image.
    private static void TryWriteCache(string path, byte[] image)
    {
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temp, image);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (Exception e2) when (e2 is IOException or UnauthorizedAccessException) { }
        }
    }
}
