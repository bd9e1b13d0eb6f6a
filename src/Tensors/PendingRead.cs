namespace PromptAD.Tensors;

/// <summary>
/// Values on their way from a backend to the host (<see cref="IBackend.ReadLater"/>): on a GPU the copy is queued
/// behind the work that computes them and lands in page-locked memory without stalling the stream; <see cref="IsReady"/>
/// says whether it has arrived, <see cref="Values"/> waits only if it has not. Dispose it when done.
/// </summary>
public abstract class PendingRead : IDisposable
{
    public abstract bool IsReady { get; }

    /// <summary>The values, in the order of the tensors read (waits for the copy if it is still queued).</summary>
    public abstract float[] Values();

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>A read that was done on the spot (the CPU backend, or a read too large for the pinned slots).</summary>
public sealed class CompletedRead(float[] values) : PendingRead
{
    public override bool IsReady => true;

    public override float[] Values() => values;

    /// <summary>The tensors' values one after another, read with <see cref="IBackend.Download"/> now.</summary>
    public static CompletedRead Now(ReadOnlySpan<Tensor> sources)
    {
        long total = 0;
        foreach (var t in sources) total += t.Length;
        var values = new float[total];
        int at = 0;
        foreach (var t in sources)
        {
            t.Backend.Download(t, values.AsSpan(at, checked((int)t.Length)));
            at += (int)t.Length;
        }
        return new CompletedRead(values);
    }
}
