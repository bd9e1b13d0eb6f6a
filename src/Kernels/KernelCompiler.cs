using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>The PTX of one compilation, with NVRTC's log (empty when there were no warnings).</summary>
public sealed record CompiledPtx(string FileName, int Architecture, string Ptx, string Log);

/// <summary>
/// Compiles the embedded CUDA C kernels to PTX with NVRTC and caches the PTX on disk. PTX (not cubin) because the
/// driver JIT-compiles it for whatever GPU it meets, including ones newer than this NVRTC knows. Warnings are errors:
/// a non-empty log fails the compile, the same rule CI enforces.
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

    /// <summary>The NVRTC options for a virtual architecture (80 means compute_80).</summary>
    public static IReadOnlyList<string> Options(int architecture) =>
        [$"--gpu-architecture=compute_{architecture}", "-default-device", "--std=c++17", "-lineinfo"];

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
        if (cachePath is not null) TryWriteCache(cachePath, ptx);
        return ptx;
    }

    /// <summary>
    /// Compiles CUDA C to PTX. Throws <see cref="NvrtcException"/> (with the file name and full log) when compilation
    /// fails, or when it succeeds with warnings and <paramref name="warningsAsErrors"/> is set.
    /// </summary>
    public static unsafe CompiledPtx Compile(string fileName, string source, int architecture,
        IReadOnlyDictionary<string, string>? headers = null, bool warningsAsErrors = true)
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
            IReadOnlyList<string> options = Options(architecture);
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
    private string CacheKey(string source, IReadOnlyDictionary<string, string> headers, int architecture)
    {
        var text = new StringBuilder(source);
        foreach (string name in headers.Keys.Order(StringComparer.Ordinal)) text.Append('\0').Append(name).Append('\0').Append(headers[name]);
        text.Append('\0').Append(string.Join(' ', Options(architecture)));
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

    // Write to a unique temp file and rename, so concurrent processes never read a half-written PTX.
    private static void TryWriteCache(string path, string ptx)
    {
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(temp, ptx);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (Exception e2) when (e2 is IOException or UnauthorizedAccessException) { }
        }
    }
}
