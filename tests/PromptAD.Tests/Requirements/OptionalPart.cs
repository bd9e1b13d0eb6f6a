using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using PromptAD.Kernels.Native;

namespace PromptAD.Tests.Requirements;

/// <summary>
/// A part of the machine that some tests need and a developer's machine may lack. Where it is missing, those tests
/// skip with what is missing and how to install it, so the README's test command passes on a fresh machine. Where
/// its variable is set to 1 (CI sets it), a missing part fails them instead: a CI image that lost the part cannot
/// pass by skipping.
/// </summary>
internal sealed class OptionalPart
{
    /// <summary>NVRTC, the CUDA runtime compiler: compiles every kernel to PTX, no GPU needed.</summary>
    public static readonly OptionalPart Nvrtc = new("NVRTC", "PROMPTAD_REQUIRE_NVRTC",
        "install NVRTC: Debian/Ubuntu `apt-get install libnvrtc11.2` (Debian: enable the non-free component), or a " +
        "CUDA toolkit, or `pip install nvidia-cuda-nvrtc-cu12`",
        () => CudaLibraryResolver.TryRequire(CudaLibraryResolver.NvrtcName, out _, out var error) ? null : error!.Message);

    /// <summary>g++ 11 or later (or $CXX): builds the CPU emulation of the kernels that the emulated GPU runs.</summary>
    public static readonly OptionalPart EmulationCompiler = new("g++ 11 or later (the emulated GPU's kernel build)", "PROMPTAD_REQUIRE_GXX",
        "install g++ 11 or later (`apt-get install g++`), or point $CXX at one", ProbeCompiler);

    /// <summary>A CUDA GPU with its driver (and cuBLAS, NVRTC): the real-GPU op table and kernel checks.</summary>
    public static readonly OptionalPart CudaGpu = new("a CUDA GPU", "PROMPTAD_REQUIRE_GPU",
        "run on a machine with an NVIDIA GPU, its driver, cuBLAS and NVRTC (scripts/device-check.sh runs these tests there)",
        probe: null);

    /// <summary>Headless Chromium: opens the HTML reports as a user's browser would ($PROMPTAD_CHROMIUM, or found on PATH).</summary>
    public static readonly OptionalPart Chromium = new("headless Chromium", "PROMPTAD_REQUIRE_CHROMIUM",
        "install it: Debian/Ubuntu `apt-get install chromium-headless-shell` (or `chromium`), or point $PROMPTAD_CHROMIUM at a Chromium or Chrome binary",
        () => ChromiumBinary is not null ? null
            : Environment.GetEnvironmentVariable("PROMPTAD_CHROMIUM") is { Length: > 0 } set ? $"$PROMPTAD_CHROMIUM is '{set}', which does not exist"
            : "no chromium-headless-shell, chromium, chromium-browser or google-chrome on PATH, and $PROMPTAD_CHROMIUM is not set");

    /// <summary>The Chromium to run: $PROMPTAD_CHROMIUM when set, else the first of the usual names found on PATH.</summary>
    public static string? ChromiumBinary =>
        Environment.GetEnvironmentVariable("PROMPTAD_CHROMIUM") is { Length: > 0 } set ? (File.Exists(set) ? set : null)
        : new[] { "chromium-headless-shell", "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);

    private readonly string name;
    private readonly string howToEnable;
    private readonly Lazy<string?>? missing;

    /// <param name="probe">Null when the part is present, otherwise why not; null for parts that the tests probe
    /// themselves (a GPU is found by creating the backend under test) and report through <see cref="Unavailable"/>.</param>
    private OptionalPart(string name, string variable, string howToEnable, Func<string?>? probe)
    {
        this.name = name;
        Variable = variable;
        this.howToEnable = howToEnable;
        missing = probe is null ? null : new Lazy<string?>(probe, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The environment variable that turns a missing part into a failure when set to 1.</summary>
    public string Variable { get; }

    /// <summary>Whether the variable demands the part (CI).</summary>
    public bool IsRequired => Environment.GetEnvironmentVariable(Variable) == "1";

    /// <summary>Returns when the part is present; otherwise skips the test, or fails it when <see cref="Variable"/>=1.</summary>
    public void Require()
    {
        if (missing is null) throw new InvalidOperationException($"{name} has no probe of its own; call Unavailable with the test's reason");
        if (missing.Value is { } why) Unavailable(why);
    }

    /// <summary>Skips the test (or fails it when <see cref="Variable"/>=1) because the part is missing, for tests
    /// that probe the part themselves; <paramref name="why"/> is what the probe said.</summary>
    [DoesNotReturn]
    public void Unavailable(string why)
    {
        string message = $"{name} is not available: {why.TrimEnd()}\nTo run these tests, {howToEnable}.";
        if (IsRequired) Assert.Fail(message + $"\n(Failed, not skipped: {Variable}=1.)");
        Assert.Skip(message + $"\n(Skipped; {Variable}=1 makes this a failure, as in CI.)");
        throw new UnreachableException();
    }

    /// <summary>Null when $CXX (default g++) runs and reports major version 11 or later; otherwise why not.</summary>
    private static string? ProbeCompiler()
    {
        string compiler = Environment.GetEnvironmentVariable("CXX") is { Length: > 0 } cxx ? cxx : "g++";
        var psi = new ProcessStartInfo(compiler) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-dumpversion");
        try
        {
            using var p = Process.Start(psi);
            if (p is null) return $"could not start {compiler}";
            string version = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (p.ExitCode != 0) return $"`{compiler} -dumpversion` exited with {p.ExitCode}";
            return int.TryParse(version.Split('.')[0], out int major) && major >= 11
                ? null
                : $"{compiler} reports version '{version}'; the emulation needs C++20 (g++ 11 or later)";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{compiler} not found ({e.Message})";
        }
    }
}
