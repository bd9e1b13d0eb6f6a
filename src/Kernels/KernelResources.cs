using System.Text.RegularExpressions;

namespace PromptAD.Kernels;

/// <summary>What one compiled kernel needs per thread and per block (ptxas' report for a cubin).</summary>
public sealed record KernelResource(string Kernel, int Architecture, int Registers, int StaticSharedBytes);

/// <summary>
/// Registers and static shared memory of every kernel of a file, from NVRTC compiling it to a cubin with ptxas'
/// verbose report (<c>-Xptxas -v</c>: "Used N registers, M bytes smem" per entry function), and the check of a launch
/// shape against a block's limits on sm_80 and sm_90: 65,536 registers (allocated per warp in units of 256) and
/// 48 KiB of shared memory without the opt-in attribute, which we never set.
/// </summary>
public static partial class KernelResources
{
    public const int RegistersPerBlock = 65536, SharedBytesPerBlock = 48 * 1024, MaxRegistersPerThread = 255;

    /// <summary>Every entry function of <paramref name="file"/> compiled for sm_<paramref name="architecture"/>.</summary>
    public static IReadOnlyList<KernelResource> Measure(string file, string source, int architecture, IReadOnlyDictionary<string, string>? headers = null)
    {
        var compiled = KernelCompiler.Compile(file, source, architecture, headers ?? KernelSources.Headers, warningsAsErrors: false, cubin: true,
            extraOptions: ["-Xptxas", "-v"]);
        return Parse(compiled.Log, architecture);
    }

    /// <summary>ptxas' verbose log, one record per "Compiling entry function" with its "Used ..." line.</summary>
    public static IReadOnlyList<KernelResource> Parse(string log, int architecture)
    {
        var result = new List<KernelResource>();
        string? entry = null;
        foreach (string line in log.Split('\n'))
        {
            var start = EntryLine().Match(line);
            if (start.Success) { entry = start.Groups[1].Value; continue; }
            var used = UsedLine().Match(line);
            if (used.Success && entry is not null)
            {
                int smem = used.Groups[2].Success ? int.Parse(used.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
                result.Add(new(entry, architecture, int.Parse(used.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), smem));
                entry = null;
            }
        }
        return result;
    }

    /// <summary>Registers a block of <paramref name="threads"/> takes: per warp, 32 × registers rounded up to 256.</summary>
    public static long BlockRegisters(int registers, int threads) => (long)(threads + 31) / 32 * ((registers * 32 + 255) / 256 * 256);

    /// <summary>Why a launch of this shape cannot run, or null when it fits.</summary>
    public static string? Violation(KernelResource r, int threads, uint dynamicSharedBytes)
    {
        long regs = BlockRegisters(r.Registers, threads);
        if (regs > RegistersPerBlock)
            return $"{r.Kernel} (sm_{r.Architecture}): {r.Registers} registers × {threads} threads need {regs} registers per block, over the {RegistersPerBlock} limit";
        long shared = r.StaticSharedBytes + (long)dynamicSharedBytes;
        if (shared > SharedBytesPerBlock)
            return $"{r.Kernel} (sm_{r.Architecture}): {r.StaticSharedBytes} B static + {dynamicSharedBytes} B dynamic shared memory, over the {SharedBytesPerBlock} B per block";
        return null;
    }

    [GeneratedRegex(@"Compiling entry function '([A-Za-z_0-9]+)' for 'sm_\d+'")]
    private static partial Regex EntryLine();

    [GeneratedRegex(@"Used (\d+) registers(?:, (\d+) bytes smem)?")]
    private static partial Regex UsedLine();
}
