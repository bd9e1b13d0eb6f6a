namespace PromptAD.Kernels;

/// <summary>A grid or block shape; a plain <c>uint</c> converts to (x, 1, 1).</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    public static implicit operator Dim3(uint x) => new(x);

    /// <summary>ceil(n / per), the usual grid size, capped at <paramref name="max"/> for grid-stride kernels.</summary>
    public static uint Blocks(long n, int per, uint max = 65535) => (uint)Math.Clamp((n + per - 1) / per, 1, max);
}
