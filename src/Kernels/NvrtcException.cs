using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>
/// An NVRTC call failed. For compilation the message carries the source file name and the full compiler log, since
/// the log is the only place the actual error (line, message) appears.
/// </summary>
public sealed class NvrtcException : Exception
{
    public NvrtcException(string call, NvrtcResult result, string? fileName = null, string? log = null)
        : base(Format(call, result, fileName, log))
    {
        Call = call;
        Result = result;
        FileName = fileName;
        Log = log ?? "";
    }

    public string Call { get; }

    public NvrtcResult Result { get; }

    public string? FileName { get; }

    /// <summary>The compiler log ("" when there was none).</summary>
    public string Log { get; }

    /// <summary>Throws when <paramref name="result"/> is not success.</summary>
    public static void Check(NvrtcResult result, string call, string? fileName = null)
    {
        if (result != NvrtcResult.Success) throw new NvrtcException(call, result, fileName);
    }

    private static string Format(string call, NvrtcResult result, string? fileName, string? log)
    {
        string text = $"{call} failed with {Nvrtc.ResultName(result)}";
        if (fileName is not null) text += $" for {fileName}";
        if (!string.IsNullOrWhiteSpace(log)) text += ". Compiler log:\n" + log.TrimEnd();
        return text;
    }
}
