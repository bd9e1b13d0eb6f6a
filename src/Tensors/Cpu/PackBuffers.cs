using System.Runtime.InteropServices;

namespace PromptAD.Tensors.Cpu;

/// <summary>
/// Per-thread, 64-byte aligned scratch for GEMM packing. Each worker thread keeps its buffers for its lifetime and
/// only grows them, so the hot path never allocates; the memory (a few MB per thread) is reclaimed at process exit.
/// </summary>
internal static unsafe class PackBuffers
{
    [ThreadStatic] private static nint t_a, t_b, t_edge;
    [ThreadStatic] private static long t_aLen, t_bLen, t_edgeLen;

    public static float* A(long floats) => Get(ref t_a, ref t_aLen, floats);

    public static float* B(long floats) => Get(ref t_b, ref t_bLen, floats);

    public static float* Edge(long floats) => Get(ref t_edge, ref t_edgeLen, floats);

    private static float* Get(ref nint ptr, ref long len, long floats)
    {
        if (len < floats)
        {
            if (ptr != 0) NativeMemory.AlignedFree((void*)ptr);
            ptr = 0;
            len = 0;
            ptr = (nint)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
            len = floats;
        }
        return (float*)ptr;
    }
}
