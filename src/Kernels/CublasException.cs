using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>A cuBLAS call failed; the message names the call and the status.</summary>
public sealed class CublasException : Exception
{
    public CublasException(string call, CublasStatus status)
        : base($"{call} failed with {Cublas.StatusName(status)}")
    {
        Call = call;
        Status = status;
    }

    /// <summary>A refusal with the reason cuBLAS documents for it (the emulated GEMM's argument checks).</summary>
    public CublasException(string call, CublasStatus status, string reason)
        : base($"{call} failed with {Cublas.StatusName(status)}: {reason}")
    {
        Call = call;
        Status = status;
    }

    public string Call { get; }

    public CublasStatus Status { get; }

    /// <summary>Throws when <paramref name="status"/> is not success.</summary>
    public static void Check(CublasStatus status, string call)
    {
        if (status != CublasStatus.Success) throw new CublasException(call, status);
    }
}
