using System.CommandLine;
using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Cli;

/// <summary>The asked-for device is not there (exit 1): a missing driver or GPU, not a bug.</summary>
internal sealed class BackendUnavailableException(string message) : Exception(message);

/// <summary>The shared `--device cpu|cuda` option and the backend it selects.</summary>
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

    /// <summary>
    /// The backend for <paramref name="device"/>; a clear error when CUDA is asked for and unavailable. The caller owns
    /// it: dispose it after the weights and tensors that live on it (disposing the shared CPU backend is a no-op).
    /// </summary>
    public static IBackend Create(string device)
    {
        if (device == "cpu") return CpuBackend.Instance;
        if (CudaBackend.TryCreate(out var cuda, out var reason)) return cuda!;
        throw new BackendUnavailableException($"--device cuda: no usable CUDA device ({reason}). Install the NVIDIA driver (libcuda), cuBLAS and NVRTC "
            + "on a machine with an NVIDIA GPU, run `promptad doctor` to see what was found and where, or use --device cpu.");
    }
}
