using System.Runtime.InteropServices;

namespace PromptAD.Serving;

/// <summary>
/// glibc's malloc_trim(0): returns the free pages inside the C heap to the system. Freed native buffers (ImageSharp
/// allocates large pixel buffers in chunks below malloc's dynamic mmap threshold) otherwise stay resident. A no-op
/// where glibc is not the C library.
/// </summary>
internal static unsafe class NativeHeap
{
    private static readonly delegate* unmanaged<nuint, int> MallocTrim = Resolve();

    public static void Trim()
    {
        if (MallocTrim != null) MallocTrim(0);
    }

    private static delegate* unmanaged<nuint, int> Resolve()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out nint libc) || !NativeLibrary.TryGetExport(libc, "malloc_trim", out nint trim))
            return null;
        return (delegate* unmanaged<nuint, int>)trim;
    }
}
