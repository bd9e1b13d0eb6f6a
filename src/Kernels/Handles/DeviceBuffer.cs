using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>
/// A device allocation (cuMemAlloc/cuMemFree). Copies take managed spans: the driver stages pageable host memory, so
/// an HtoD copy has consumed the source and a DtoH copy has filled the destination by the time the call returns, which
/// makes pinning the span only for the call's duration safe.
/// </summary>
public sealed class DeviceBuffer : ContextBoundHandle
{
    public DeviceBuffer(CudaContext context, ulong bytes) : base(context)
    {
        context.MakeCurrent();
        CUresult r = CudaDriver.cuMemAlloc_v2(out ulong ptr, (nuint)Math.Max(bytes, 1));
        if (r != CUresult.Success) ReleaseContextReference();
        if (r != CUresult.Success) throw new CudaException("cuMemAlloc_v2", r, $"allocating {bytes} bytes");
        SetHandle((nint)ptr);
        Bytes = bytes;
    }

    /// <summary>The CUdeviceptr, as kernels and cuBLAS take it.</summary>
    public ulong Pointer => (ulong)handle;

    public ulong Bytes { get; }

    public unsafe void CopyFrom<T>(ReadOnlySpan<T> source, CudaStream stream, ulong byteOffset = 0) where T : unmanaged
    {
        ulong bytes = (ulong)source.Length * (ulong)sizeof(T);
        CheckRange(byteOffset, bytes);
        fixed (T* p = source)
            CudaException.Check(CudaDriver.cuMemcpyHtoDAsync_v2(Pointer + byteOffset, p, (nuint)bytes, stream.Handle), "cuMemcpyHtoDAsync_v2");
    }

    public unsafe void CopyTo<T>(Span<T> destination, CudaStream stream, ulong byteOffset = 0) where T : unmanaged
    {
        ulong bytes = (ulong)destination.Length * (ulong)sizeof(T);
        CheckRange(byteOffset, bytes);
        fixed (T* p = destination)
            CudaException.Check(CudaDriver.cuMemcpyDtoHAsync_v2(p, Pointer + byteOffset, (nuint)bytes, stream.Handle), "cuMemcpyDtoHAsync_v2");
        // The async copy returns early when the span is page-locked memory, so wait before the caller reads it (and
        // before the fixed pin ends).
        stream.Synchronize();
    }

    /// <summary>Fills <paramref name="count"/> 32-bit words (0 for zero, BitConverter.SingleToUInt32Bits for a float).</summary>
    public void Fill32(uint value, ulong count, CudaStream stream, ulong byteOffset = 0)
    {
        CheckRange(byteOffset, count * 4);
        CudaException.Check(CudaDriver.cuMemsetD32Async(Pointer + byteOffset, value, (nuint)count, stream.Handle), "cuMemsetD32Async");
    }

    public static void Copy(DeviceBuffer destination, ulong destinationOffset, DeviceBuffer source, ulong sourceOffset, ulong bytes, CudaStream stream)
    {
        destination.CheckRange(destinationOffset, bytes);
        source.CheckRange(sourceOffset, bytes);
        CudaException.Check(CudaDriver.cuMemcpyDtoDAsync_v2(destination.Pointer + destinationOffset, source.Pointer + sourceOffset,
            (nuint)bytes, stream.Handle), "cuMemcpyDtoDAsync_v2");
    }

    private void CheckRange(ulong offset, ulong bytes)
    {
        if (offset > Bytes || bytes > Bytes - offset)
            throw new ArgumentOutOfRangeException(nameof(bytes), $"{bytes} bytes at offset {offset} exceed the {Bytes}-byte buffer.");
    }

    protected override CUresult Free() => CudaDriver.cuMemFree_v2(Pointer);
}
