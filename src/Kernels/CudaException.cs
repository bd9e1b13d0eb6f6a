using System.Runtime.InteropServices;
using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>A CUDA driver call failed. The message names the call and the CUresult (name and description).</summary>
public sealed class CudaException : Exception
{
    public CudaException(string call, CUresult result, string? detail = null)
        : base(Format(call, result, detail))
    {
        Call = call;
        Result = result;
    }

    public string Call { get; }

    public CUresult Result { get; }

    /// <summary>Throws when <paramref name="result"/> is not success: <c>Check(cuMemAlloc_v2(...), "cuMemAlloc_v2")</c>.</summary>
    public static void Check(CUresult result, string call)
    {
        if (result != CUresult.Success) throw new CudaException(call, result);
    }

    /// <summary>"CUDA_ERROR_OUT_OF_MEMORY: out of memory", asking the driver, with a fallback if it cannot answer.</summary>
    public static string Describe(CUresult result)
    {
        string name = $"CUresult {(int)result} ({result})", text = "";
        try
        {
            if (CudaDriver.cuGetErrorName(result, out nint n) == CUresult.Success && n != 0) name = Marshal.PtrToStringUTF8(n) ?? name;
            if (CudaDriver.cuGetErrorString(result, out nint s) == CUresult.Success && s != 0) text = Marshal.PtrToStringUTF8(s) ?? "";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No driver to ask: the numeric code still identifies the error.
        }
        return text.Length == 0 ? name : $"{name}: {text}";
    }

    private static string Format(string call, CUresult result, string? detail) =>
        $"{call} failed with {Describe(result)}" + (string.IsNullOrEmpty(detail) ? "" : "\n" + detail);
}
