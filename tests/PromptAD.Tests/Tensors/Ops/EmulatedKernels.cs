using System.Diagnostics;
using PromptAD.Kernels;
using PromptAD.Tests.Requirements;

namespace PromptAD.Tests.Ops;

/// <summary>
/// Builds (once per test run, and only when a kernel or emulation source is newer than the library) and loads
/// libpromptad_emu.so: our CUDA kernels compiled for the CPU by kernels/emulation/build.sh. Needs bash and g++ ≥ 11
/// for that build (a few seconds): without them the emulated-GPU tests skip, saying how to install them
/// (<see cref="OptionalPart.EmulationCompiler"/>; CI sets PROMPTAD_REQUIRE_GXX=1 to make that a failure).
/// </summary>
internal static class EmulatedKernels
{
    private static readonly Lazy<EmulatedRuntime> Shared = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    public static EmulatedRuntime Runtime
    {
        get
        {
            if (!Shared.IsValueCreated && NeedsBuild(out _, out _)) OptionalPart.EmulationCompiler.Require();
            return Shared.Value;
        }
    }

    /// <summary>A runtime of its own (own counters and allocations) on the same library, for tests that count device work
    /// while other tests use <see cref="Runtime"/> in parallel.</summary>
    public static EmulatedRuntime CreateRuntime(GemmPrecision precision = GemmPrecision.Fp32, EmulationOptions? options = null)
    {
        if (!LibraryPath.IsValueCreated && NeedsBuild(out _, out _)) OptionalPart.EmulationCompiler.Require();
        return new(LibraryPath.Value, precision, options);
    }

    /// <summary>A runtime on the tests' planted-bug kernels (tests/PromptAD.Tests/Kernels/Planted/*.cu), built into a
    /// library of their own on first use.</summary>
    public static EmulatedRuntime CreatePlantedRuntime(EmulationOptions? options = null)
    {
        if (!PlantedPath.IsValueCreated) OptionalPart.EmulationCompiler.Require();
        return new(PlantedPath.Value, GemmPrecision.Fp32, options);
    }

    private static readonly Lazy<string> PlantedPath = new(() =>
    {
        string root = RepositoryRoot(), output = Path.Combine(root, "kernels", "emulation", "build", "planted");
        Build(Path.Combine(root, "kernels", "emulation", "build.sh"), output, Path.Combine(root, "tests", "PromptAD.Tests", "Kernels", "Planted"));
        return Path.Combine(output, "libpromptad_emu.so");
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<string> LibraryPath = new(BuildLibrary, LazyThreadSafetyMode.ExecutionAndPublication);

    private static EmulatedRuntime Create() => new(LibraryPath.Value);

    private static string BuildLibrary()
    {
        if (NeedsBuild(out string library, out string emulation))
            Build(Path.Combine(emulation, "build.sh"), Path.GetDirectoryName(library)!);
        return library;
    }

    /// <summary>Whether libpromptad_emu.so is missing or older than a kernel or emulation source.</summary>
    private static bool NeedsBuild(out string library, out string emulation)
    {
        string root = RepositoryRoot();
        emulation = Path.Combine(root, "kernels", "emulation");
        library = Path.Combine(emulation, "build", "libpromptad_emu.so");
        var sources = Directory.GetFiles(Path.Combine(root, "kernels"), "*.cu*").Concat(Directory.GetFiles(emulation, "*.*"));
        string built = library;
        return !File.Exists(built) || sources.Any(s => File.GetLastWriteTimeUtc(s) > File.GetLastWriteTimeUtc(built));
    }

    private static void Build(string script, string output, string? sources = null)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(output);
        if (sources is not null) psi.ArgumentList.Add(sources);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start bash");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(entireProcessTree: true); throw new TimeoutException($"{script} took over 3 minutes"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{script} failed ({p.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
    }

    /// <summary>The checkout holding kernels/emulation/build.sh, searched upward from the test binary.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "kernels", "emulation", "build.sh"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no kernels/emulation/build.sh above {AppContext.BaseDirectory}");
    }
}
