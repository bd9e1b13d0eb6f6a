using System.CommandLine;
using PromptAD.Kernels;
using PromptAD.Pipeline;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Cli;

/// <summary>The asked-for device is not there (exit 1): a missing driver or GPU, not a bug.</summary>
internal sealed class BackendUnavailableException(string message) : Exception(message);

/// <summary>The shared `--device cpu|cuda` and `--precision fp32|tf32|bf16` options and the backend a <see cref="ComputeDevice"/> selects.</summary>
internal static class BackendChoice
{
    private const string PrecisionDescription = "GEMM precision on a GPU: fp32 (default, exact FP32), tf32 (TF32 tensor cores: inputs rounded to "
        + "10 mantissa bits), bf16 (inputs in BF16, 7 mantissa bits, FP32 accumulation; weights converted once). Every other op "
        + "stays FP32. The CPU computes in fp32 only.";

    private static readonly (string, GemmPrecision)[] Precisions = [.. GemmPrecisions.Names.Select(n => (n, GemmPrecisions.Parse(n)))];

    /// <summary>`--device cpu|cuda` (default cpu) and `--precision fp32|tf32|bf16` (default fp32): the verbs that run on either.</summary>
    public static DeviceOptions CreateOptions() => new(
        new ChoiceOption<DeviceKind>("--device", "where to compute: cpu (multi-threaded, AVX-512/AVX2) or cuda (NVIDIA GPU)", "cpu",
            ("cpu", DeviceKind.Cpu), ("cuda", DeviceKind.Cuda)),
        new ChoiceOption<GemmPrecision>("--precision", PrecisionDescription, "fp32", Precisions));

    /// <summary>
    /// `--device cuda|emulated` (default cuda), `--emulator LIB` and `--precision`: the verbs and benchmarks that measure
    /// the GPU backend itself, which also run on the emulated GPU (our kernels compiled for the CPU).
    /// </summary>
    public static DeviceOptions CreateGpuOptions(string defaultPrecision = "fp32", bool reducedOnly = false) => new(
        new ChoiceOption<DeviceKind>("--device",
            $"cuda (the GPU) or emulated (our kernels compiled for the CPU: libpromptad_emu.so from kernels/emulation/build.sh, given by --emulator or ${EmulatorVariable})",
            "cuda", ("cuda", DeviceKind.Cuda), ("emulated", DeviceKind.Emulated)),
        new ChoiceOption<GemmPrecision>("--precision", reducedOnly ? "GEMM precision compared with fp32: tf32 or bf16" : PrecisionDescription,
            defaultPrecision, [.. Precisions.Where(p => !reducedOnly || p.Item2 != GemmPrecision.Fp32)]),
        new Option<FileInfo?>("--emulator") { Description = "libpromptad_emu.so for --device emulated" });

    /// <summary>The usage error for a reduced precision on the CPU, which has none.</summary>
    public static string CpuPrecisionError(string precision) => $"--precision {precision} needs --device cuda: the CPU computes in fp32 only";

    /// <summary>A usage error (exit 2) for a reduced precision on the CPU; the parser refuses it already, this guards direct callers.</summary>
    public static void CheckPrecision(ComputeDevice device)
    {
        if (device.Kind == DeviceKind.Cpu && device.Precision != GemmPrecision.Fp32)
            throw new ArgumentException(CpuPrecisionError(device.Precision.Name()));
    }

    /// <summary>
    /// A GPU backend for the verbs that also run on the emulated GPU (profile, bench precision): <c>cuda</c>, or
    /// <c>emulated</c> (our kernels compiled for the CPU: libpromptad_emu.so from kernels/emulation/build.sh, given by
    /// <paramref name="emulator"/> or $PROMPTAD_EMULATOR).
    /// </summary>
    public static CudaBackend CreateGpu(ComputeDevice device)
    {
        var precision = device.Precision;
        if (device.Kind == DeviceKind.Cuda)
        {
            if (CudaBackend.TryCreate(out var cuda, out var reason, precision)) return cuda!;
            throw new BackendUnavailableException($"--device cuda: no usable CUDA device ({reason}). Run `promptad doctor` for details, or use --device emulated.");
        }
        string? path = device.Emulator?.FullName ?? Environment.GetEnvironmentVariable(EmulatorVariable);
        if (string.IsNullOrEmpty(path))
            throw new ArgumentException($"--device emulated needs the kernels compiled for the CPU: build them with kernels/emulation/build.sh and pass --emulator <libpromptad_emu.so> (or set ${EmulatorVariable})");
        if (!File.Exists(path)) throw new FileNotFoundException($"emulator library '{path}' does not exist (build it with kernels/emulation/build.sh)");
        const string expected = "expected libpromptad_emu.so, the kernels compiled for the CPU by kernels/emulation/build.sh";
        try
        {
            Clip.IO.InputFile.Check(path, "emulator library", 1L << 30);
            // The pool's size classes as on a GPU (not the tests' strict exact-size memory), so `profile`'s allocation
            // counts are the ones a GPU run makes.
            return new CudaBackend(new EmulatedRuntime(path, precision, new EmulationOptions(StrictMemory: false)));
        }
        catch (IOException e)
        {
            throw new BackendUnavailableException($"--emulator '{path}': {e.Message} {char.ToUpperInvariant(expected[0])}{expected[1..]}.");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            // dlopen's reason (not an ELF file, wrong architecture) or the missing entry point (another library).
            throw new BackendUnavailableException($"--emulator '{path}' is not the emulator library ({e.Message}); {expected}.");
        }
    }

    public const string EmulatorVariable = "PROMPTAD_EMULATOR";

    /// <summary>
    /// The backend <paramref name="device"/> names; a clear error when CUDA is asked for and
    /// unavailable. The caller owns it: dispose it after the weights and tensors that live on it (disposing the shared CPU
    /// backend is a no-op).
    /// </summary>
    public static IBackend Create(ComputeDevice device)
    {
        CheckPrecision(device);
        if (device.Kind == DeviceKind.Cpu) return CpuBackend.Instance;
        if (device.Kind == DeviceKind.Emulated) return CreateGpu(device);
        if (CudaBackend.TryCreate(out var cuda, out var reason, device.Precision)) return cuda!;
        throw new BackendUnavailableException($"--device cuda: no usable CUDA device ({reason}). Install the NVIDIA driver (libcuda), cuBLAS and NVRTC "
            + "on a machine with an NVIDIA GPU, run `promptad doctor` to see what was found and where, or use --device cpu.");
    }
}
