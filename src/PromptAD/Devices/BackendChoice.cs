using System.CommandLine;
using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Devices;

/// <summary>The asked-for device is not there (exit 1): a missing driver or GPU, not a bug.</summary>
internal sealed class BackendUnavailableException(string message) : Exception(message);

/// <summary>The shared `--device cpu|cuda` and `--precision fp32|tf32|bf16` options and the backend they select.</summary>
internal static class BackendChoice
{
    public static Option<string> CreateOption()
    {
        var option = new Option<string>("--device")
        {
            Description = "where to compute: cpu (multi-threaded, AVX-512/AVX2) or cuda (NVIDIA GPU)",
            DefaultValueFactory = _ => "cpu",
        };
        option.AcceptOnlyFromAmong("cpu", "cuda");
        return option;
    }

    public static Option<string> CreatePrecisionOption()
    {
        var option = new Option<string>("--precision")
        {
            Description = "GEMM precision with --device cuda: fp32 (default, exact FP32), tf32 (TF32 tensor cores: inputs rounded to "
                + "10 mantissa bits), bf16 (inputs in BF16, 7 mantissa bits, FP32 accumulation; weights converted once). Every other op "
                + "stays FP32. The CPU computes in fp32 only.",
            DefaultValueFactory = _ => "fp32",
        };
        option.AcceptOnlyFromAmong([.. GemmPrecisions.Names]);
        return option;
    }

    /// <summary>A usage error (exit 2) for a reduced precision on the CPU, which has none.</summary>
    public static GemmPrecision CheckPrecision(string device, string precision)
    {
        var p = GemmPrecisions.Parse(precision);
        if (device == "cpu" && p != GemmPrecision.Fp32)
            throw new ArgumentException($"--precision {precision} needs --device cuda: the CPU computes in fp32 only");
        return p;
    }

    /// <summary>
    /// A GPU backend for the verbs that also run on the emulated GPU (profile, bench precision): <c>cuda</c>, or
    /// <c>emulated</c> (our kernels compiled for the CPU: libpromptad_emu.so from kernels/emulation/build.sh, given by
    /// <paramref name="emulator"/> or $PROMPTAD_EMULATOR).
    /// </summary>
    public static CudaBackend CreateGpu(string device, FileInfo? emulator, GemmPrecision precision)
    {
        if (device == "cuda")
        {
            if (CudaBackend.TryCreate(out var cuda, out var reason, precision)) return cuda!;
            throw new BackendUnavailableException($"--device cuda: no usable CUDA device ({reason}). Run `promptad doctor` for details, or use --device emulated.");
        }
        string? path = emulator?.FullName ?? Environment.GetEnvironmentVariable(EmulatorVariable);
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
    /// The backend for <paramref name="device"/> in <paramref name="precision"/>; a clear error when CUDA is asked for and
    /// unavailable. The caller owns it: dispose it after the weights and tensors that live on it (disposing the shared CPU
    /// backend is a no-op).
    /// </summary>
    public static IBackend Create(string device, string precision = "fp32")
    {
        var p = CheckPrecision(device, precision);
        if (device == "cpu") return CpuBackend.Instance;
        if (CudaBackend.TryCreate(out var cuda, out var reason, p)) return cuda!;
        throw new BackendUnavailableException($"--device cuda: no usable CUDA device ({reason}). Install the NVIDIA driver (libcuda), cuBLAS and NVRTC "
            + "on a machine with an NVIDIA GPU, run `promptad doctor` to see what was found and where, or use --device cpu.");
    }
}
