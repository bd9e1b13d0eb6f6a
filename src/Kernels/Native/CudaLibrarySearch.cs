namespace PromptAD.Kernels.Native;

/// <summary>
/// Where <see cref="CudaLibraryResolver"/> looks for a CUDA library: optionally the OS loader's own search first, then
/// each directory in order. A value, so tests can point the resolver at directories of their choosing.
/// </summary>
public sealed record CudaLibrarySearch(bool UseDefaultSearch, IReadOnlyList<string> Directories)
{
    /// <summary>
    /// The real search: the loader default, $CUDA_PATH (lib64, lib/x64, bin, bin/x64), /usr/local/cuda/lib64 and every
    /// /usr/local/cuda-X.Y/lib64 (newest first), every $LD_LIBRARY_PATH / $PATH (Windows) entry, $CONDA_PREFIX/lib, and
    /// the nvidia/*/lib folders that pip's nvidia-*-cu12/cu13 wheels install under every Python site-packages /
    /// dist-packages we can find, including the default python3's own (asked, so VIRTUAL_ENV need not be set).
    /// </summary>
    public static CudaLibrarySearch Default()
    {
        var dirs = new List<string>();
        void Add(string? dir)
        {
            if (!string.IsNullOrWhiteSpace(dir) && !dirs.Contains(dir)) dirs.Add(dir);
        }

        string? cudaPath = Environment.GetEnvironmentVariable("CUDA_PATH");
        if (!string.IsNullOrEmpty(cudaPath))
        {
            Add(Path.Combine(cudaPath, "lib64"));
            Add(Path.Combine(cudaPath, "lib", "x64"));
            Add(Path.Combine(cudaPath, "bin"));
            Add(Path.Combine(cudaPath, "bin", "x64")); // CUDA 13 moved the Windows DLLs here
        }
        if (!OperatingSystem.IsWindows())
        {
            Add("/usr/local/cuda/lib64");
            // Versioned toolkits side by side (/usr/local/cuda-12.4, cuda-13.0), newest first; the driver check in
            // CudaLibraryResolver skips a major this driver cannot run.
            foreach (string dir in Glob("/usr/local", "cuda*").OrderByDescending(ToolkitVersion)) Add(Path.Combine(dir, "lib64"));
        }

        string pathVar = OperatingSystem.IsWindows() ? "PATH" : "LD_LIBRARY_PATH";
        foreach (string entry in (Environment.GetEnvironmentVariable(pathVar) ?? "").Split(Path.PathSeparator))
            Add(entry);

        string? conda = Environment.GetEnvironmentVariable("CONDA_PREFIX");
        if (!string.IsNullOrEmpty(conda)) Add(Path.Combine(conda, OperatingSystem.IsWindows() ? "Library\\bin" : "lib"));

        foreach (string dir in PythonWheelDirectories()) Add(dir);
        return new CudaLibrarySearch(true, dirs);
    }

    /// <summary>Existing <c>site-packages/nvidia/*/lib</c> (Windows: <c>bin</c>) folders of pip installs.</summary>
    public static IEnumerable<string> PythonWheelDirectories()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var roots = new List<string>();
        if (OperatingSystem.IsWindows())
        {
            string local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            string roaming = Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData);
            roots.AddRange(Glob(Path.Combine(local, "Programs", "Python"), "Python3*").Select(p => Path.Combine(p, "Lib")));
            roots.AddRange(Glob(Path.Combine(roaming, "Python"), "Python3*"));
        }
        else
        {
            foreach (string baseDir in new[] { "/usr/lib", "/usr/local/lib", "/usr/lib64", Path.Combine(home, ".local", "lib") })
                roots.AddRange(Glob(baseDir, "python3*"));
        }
        string? venv = Environment.GetEnvironmentVariable("VIRTUAL_ENV");
        if (!string.IsNullOrEmpty(venv))
            roots.AddRange(OperatingSystem.IsWindows() ? [Path.Combine(venv, "Lib")] : Glob(Path.Combine(venv, "lib"), "python3*"));
        string? conda = Environment.GetEnvironmentVariable("CONDA_PREFIX");
        if (!string.IsNullOrEmpty(conda) && !OperatingSystem.IsWindows()) roots.AddRange(Glob(Path.Combine(conda, "lib"), "python3*"));

        // Wherever the default python3 keeps its packages (a venv that is active in another shell, a pyenv or conda
        // install): ask it where the `nvidia` namespace package lives, even when VIRTUAL_ENV is unset.
        foreach (string nvidia in PythonNvidiaPackages.Value)
            roots.Add(Path.GetDirectoryName(Path.GetDirectoryName(nvidia)!)!); // …/site-packages/nvidia → the folder above site-packages

        string libName = OperatingSystem.IsWindows() ? "bin" : "lib";
        foreach (string root in roots)
            foreach (string packages in new[] { "site-packages", "dist-packages" })
                foreach (string pkg in Glob(Path.Combine(root, packages, "nvidia"), "*"))
                {
                    string lib = Path.Combine(pkg, libName);
                    if (Directory.Exists(lib)) yield return lib;
                }
    }

    /// <summary>"/usr/local/cuda-12.4" → 12.4 (0 for an unversioned name such as "cuda").</summary>
    public static Version ToolkitVersion(string dir)
    {
        string name = Path.GetFileName(dir);
        int dash = name.IndexOf('-');
        return dash >= 0 && Version.TryParse(name[(dash + 1)..], out Version? v) ? v : new Version(0, 0);
    }

    /// <summary>The <c>nvidia</c> package folders the default python3 sees (asked once, 5 s at most; none without python3).</summary>
    private static readonly Lazy<string[]> PythonNvidiaPackages = new(() =>
    {
        if (OperatingSystem.IsWindows()) return [];
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import nvidia\nfor p in nvidia.__path__: print(p)");
            using var p = System.Diagnostics.Process.Start(psi);
            if (p is null) return [];
            Task<string> output = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(5000)) { p.Kill(); return []; }
            return p.ExitCode == 0 ? output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(Directory.Exists).ToArray() : [];
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return []; // no python3: nothing to ask
        }
    });

    private static IEnumerable<string> Glob(string dir, string pattern)
    {
        try
        {
            return Directory.Exists(dir) ? Directory.GetDirectories(dir, pattern).Order(StringComparer.Ordinal).ToArray() : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // an unreadable folder is simply not a place with libraries
        }
    }
}
