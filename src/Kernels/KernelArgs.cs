namespace PromptAD.Kernels;

/// <summary>
/// Kernel arguments for cuLaunchKernel, built on the stack: each argument sits in an 8-byte slot and the launch passes
/// a pointer per slot. Conventions match the .cu files: device pointers are <c>ulong</c> (CUdeviceptr), sizes
/// <c>int</c>, scalars <c>float</c>. cuLaunchKernel reads exactly the parameter's size from its slot, and the low bytes
/// come first on little-endian hosts, so 4-byte values in 8-byte slots are read correctly.
/// </summary>
public unsafe struct KernelArgs
{
    public const int Capacity = 16;
    private fixed ulong slots[Capacity];
    private int count;

    public readonly int Count => count;

    public KernelArgs Pointer(ulong devicePointer) => Put(devicePointer);

    /// <summary>The raw 8-byte slot of argument <paramref name="index"/> (for runtimes that are not the CUDA driver).</summary>
    internal readonly ulong Slot(int index) => (uint)index < (uint)count ? slots[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public KernelArgs Int(int value) => Put((uint)value);

    public KernelArgs Float(float value) => Put(BitConverter.SingleToUInt32Bits(value));

    /// <summary>Launches <paramref name="function"/> with these arguments (pointers to the slots, valid for the call).</summary>
    internal readonly void Launch(nint function, Dim3 grid, Dim3 block, uint sharedMemBytes, nint stream)
    {
        fixed (ulong* slotBase = slots)
        {
            void** pointers = stackalloc void*[Math.Max(count, 1)];
            for (int i = 0; i < count; i++) pointers[i] = slotBase + i;
            CudaException.Check(Native.CudaDriver.cuLaunchKernel(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z,
                sharedMemBytes, stream, pointers, null), "cuLaunchKernel");
        }
    }

    private KernelArgs Put(ulong bits)
    {
        if (count == Capacity) throw new InvalidOperationException($"A kernel takes at most {Capacity} arguments here.");
        slots[count++] = bits;
        return this;
    }
}
