using System.Reflection;
using System.Runtime.InteropServices;

namespace PromptAD.Kernels.Native;

/// <summary>
/// Maps the logical library names of our bindings ("cuda", "cublas", "nvrtc") to real files. The CUDA libraries carry
/// their major version in the file name (libcublas.so.12, nvrtc64_120_0.dll) and often live outside the loader path
/// (toolkit folders, pip wheels), so a plain <c>[LibraryImport("cublas")]</c> would not find them.
/// </summary>
/// <remarks>
/// Managed entry points call <see cref="Require"/> first, which throws <see cref="CudaLibraryNotFoundException"/>
/// with every place tried; the DllImport resolver itself only returns the cached handle (or zero), because an
/// exception thrown inside a resolver callback is not a clear way to report a missing install.
/// </remarks>
public static class CudaLibraryResolver
{
    public const string CudaName = "cuda";
    public const string CublasName = "cublas";
    public const string NvrtcName = "nvrtc";
    public const string NvtxName = "nvtx";

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, LoadedLibrary> Loaded = new(StringComparer.Ordinal);
    private static int registered;

    /// <summary>A loaded library: its handle and the file (or loader name) it came from.</summary>
    public sealed record LoadedLibrary(string Logical, nint Handle, string Path);

    /// <summary>Installs the DllImport resolver for this assembly once; every NativeMethods class calls it.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 0)
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraryResolver).Assembly, Resolve);
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name is not (CudaName or CublasName or NvrtcName or NvtxName)) return 0;
        return TryRequire(name, out LoadedLibrary? lib, out _) ? lib!.Handle : 0;
    }

    /// <summary>Loads (once) the library for a logical name with the default search, or throws listing every place tried.</summary>
    public static LoadedLibrary Require(string logical)
    {
        Register();
        if (TryRequire(logical, out LoadedLibrary? lib, out CudaLibraryNotFoundException? error)) return lib!;
        throw error!;
    }

    /// <summary>Like <see cref="Require"/> but reports failure instead of throwing (for the doctor report).</summary>
    public static bool TryRequire(string logical, out LoadedLibrary? library, out CudaLibraryNotFoundException? error)
    {
        lock (Gate)
        {
            if (Loaded.TryGetValue(logical, out library)) { error = null; return true; }
            if (!TryLoad(logical, CudaLibrarySearch.Default(), out library, out error)) return false;
            Loaded[logical] = library!;
            return true;
        }
    }

    /// <summary>Loads with an explicit search (not cached); throws <see cref="CudaLibraryNotFoundException"/> on failure.</summary>
    public static LoadedLibrary Load(string logical, CudaLibrarySearch search)
    {
        if (TryLoad(logical, search, out LoadedLibrary? lib, out CudaLibraryNotFoundException? error)) return lib!;
        throw error!;
    }

    /// <summary>The file names tried for a logical name on this OS, newest major version first.</summary>
    public static IReadOnlyList<string> CandidateNames(string logical)
    {
        bool win = OperatingSystem.IsWindows();
        return logical switch
        {
            CudaName => win ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"],
            CublasName => win ? ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"]
                              : ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"],
            NvrtcName => win ? ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"]
                             : ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"],
            NvtxName => win ? ["nvToolsExt64_1.dll"] : ["libnvToolsExt.so.1", "libnvToolsExt.so"],
            _ => throw new ArgumentException($"Unknown CUDA library '{logical}'; expected cuda, cublas, nvrtc or nvtx.", nameof(logical)),
        };
    }

    /// <summary>
    /// <see cref="CandidateNames(string)"/> without the versions whose major is newer than the driver's CUDA major
    /// (<paramref name="driverMajor"/>, 0 when unknown: nothing dropped). A cuBLAS or NVRTC of a newer major loads but
    /// then fails (cuBLAS at its first call, NVRTC's PTX and cubins at module load), so the newest one the driver runs
    /// is chosen instead. Unversioned names (libcublas.so) stay.
    /// </summary>
    public static IReadOnlyList<string> CandidateNames(string logical, int driverMajor)
    {
        IReadOnlyList<string> all = CandidateNames(logical);
        if (driverMajor <= 0 || logical is not (CublasName or NvrtcName)) return all;
        return [.. all.Where(n => NameMajor(n) is not int major || major <= driverMajor)];
    }

    /// <summary>The CUDA major in a library file name: libcublas.so.12 → 12, libnvrtc.so.11.2 → 11, nvrtc64_120_0.dll → 12.</summary>
    public static int? NameMajor(string name)
    {
        var m = System.Text.RegularExpressions.Regex.Match(name, @"\.so\.(\d+)|64_(\d+)(?:_0)?\.dll$");
        if (!m.Success) return null;
        if (m.Groups[1].Success) return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int v = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        return v >= 100 ? v / 10 : v; // nvrtc64_120_0 → 12; cublas64_12 → 12
    }

    /// <summary>The driver's CUDA major (cuDriverGetVersion / 1000), or 0 without a driver.</summary>
    private static unsafe int DriverMajor()
    {
        if (!TryRequire(CudaName, out LoadedLibrary? cuda, out _)) return 0;
        if (!NativeLibrary.TryGetExport(cuda!.Handle, "cuDriverGetVersion", out nint f)) return 0;
        int version = 0;
        return ((delegate* unmanaged<int*, int>)f)(&version) == 0 ? version / 1000 : 0;
    }

    private static bool TryLoad(string logical, CudaLibrarySearch search, out LoadedLibrary? library,
        out CudaLibraryNotFoundException? error)
    {
        IReadOnlyList<string> names = logical is CublasName or NvrtcName ? CandidateNames(logical, DriverMajor()) : CandidateNames(logical);
        var tried = new List<string>();
        library = null;
        error = null;

        if (search.UseDefaultSearch)
        {
            foreach (string name in names)
                if (NativeLibrary.TryLoad(name, out nint handle))
                {
                    library = new LoadedLibrary(logical, handle, name + " (loader search)");
                    return true;
                }
            tried.Add($"the system loader search ({(OperatingSystem.IsWindows() ? "PATH, System32" : "LD_LIBRARY_PATH, ldconfig cache, /lib, /usr/lib")}): {string.Join(", ", names)}");
        }

        foreach (string dir in search.Directories)
        {
            if (!Directory.Exists(dir))
            {
                tried.Add($"{dir} (folder does not exist)");
                continue;
            }
            foreach (string name in names)
            {
                string path = Path.Combine(dir, name);
                if (!File.Exists(path)) continue;
                PreloadSiblings(logical, dir);
                if (NativeLibrary.TryLoad(path, out nint handle))
                {
                    library = new LoadedLibrary(logical, handle, path);
                    return true;
                }
                tried.Add($"{path} (present but failed to load: wrong architecture or missing dependency)");
            }
            tried.Add($"{dir}: {string.Join(", ", names)} not found");
        }

        error = new CudaLibraryNotFoundException(logical, tried, FixHint(logical));
        return false;
    }

    // A library loaded by full path from a folder outside the loader path cannot find its own dependencies unless
    // they carry an $ORIGIN runpath, so load them first from the same folder (cuBLAS needs cuBLASLt; NVRTC dlopens
    // its builtins library by soname, which then matches the copy already loaded). Best effort: failures are ignored.
    private static void PreloadSiblings(string logical, string dir)
    {
        string? pattern = (logical, OperatingSystem.IsWindows()) switch
        {
            (CublasName, false) => "libcublasLt.so.*",
            (CublasName, true) => "cublasLt64_*.dll",
            (NvrtcName, false) => "libnvrtc-builtins.so.*",
            (NvrtcName, true) => "nvrtc-builtins64_*.dll",
            _ => null,
        };
        if (pattern is null) return;
        try
        {
            foreach (string file in Directory.GetFiles(dir, pattern).Order(StringComparer.Ordinal).Reverse())
                if (NativeLibrary.TryLoad(file, out _)) return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The main load below reports the real problem.
        }
    }

    private static string FixHint(string logical) => logical switch
    {
        CudaName => "Install the NVIDIA GPU driver (it provides libcuda.so.1 / nvcuda.dll); inside a container, run it " +
                    "with the NVIDIA container toolkit (docker run --gpus all).",
        CublasName => "Install the CUDA toolkit 11, 12 or 13 (or just its cuBLAS: apt install libcublas-12-x, or " +
                      "pip install nvidia-cublas-cu12), then set CUDA_PATH to the toolkit root or add the folder holding " +
                      (OperatingSystem.IsWindows() ? "cublas64_12.dll to PATH." : "libcublas.so.12 to LD_LIBRARY_PATH."),
        NvtxName => "Optional (named ranges in Nsight traces): install the CUDA toolkit's NVTX (libnvToolsExt.so.1) or " +
                    "pip install nvidia-nvtx-cu12, and add its folder to LD_LIBRARY_PATH.",
        _ => "Install NVRTC from the CUDA toolkit (apt install cuda-nvrtc-12-x, or libnvrtc11.2 on Debian/Ubuntu, or " +
             "pip install nvidia-cuda-nvrtc-cu12), then set CUDA_PATH to the toolkit root or add the folder holding " +
             (OperatingSystem.IsWindows() ? "nvrtc64_120_0.dll to PATH." : "libnvrtc.so.12 to LD_LIBRARY_PATH."),
    };
}
