namespace PromptAD.Kernels.Native;

/// <summary>
/// A CUDA library could not be loaded. The message lists every place tried and how to fix the install, because
/// "DllNotFoundException: cublas" alone leaves a user with nothing to act on.
/// </summary>
public sealed class CudaLibraryNotFoundException : Exception
{
    public CudaLibraryNotFoundException(string library, IReadOnlyList<string> placesTried, string fix)
        : base(Format(library, placesTried, fix))
    {
        Library = library;
        PlacesTried = placesTried;
    }

    /// <summary>The logical name: cuda, cublas or nvrtc.</summary>
    public string Library { get; }

    public IReadOnlyList<string> PlacesTried { get; }

    private static string Format(string library, IReadOnlyList<string> placesTried, string fix)
    {
        string what = library switch
        {
            CudaLibraryResolver.CudaName => "the NVIDIA CUDA driver library",
            CudaLibraryResolver.CublasName => "the NVIDIA cuBLAS library",
            _ => "the NVIDIA runtime compiler library (NVRTC)",
        };
        var text = new System.Text.StringBuilder();
        text.Append("Could not load ").Append(what).Append(" (\"").Append(library).Append("\"). Places tried:");
        if (placesTried.Count == 0) text.Append("\n  (none: the search had no loader search and no folders)");
        foreach (string place in placesTried) text.Append("\n  - ").Append(place);
        text.Append("\nHow to fix: ").Append(fix);
        return text.ToString();
    }
}
