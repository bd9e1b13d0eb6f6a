using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace PromptAD.Bench;

/// <summary>
/// The FP32 peak of this CPU, measured: every thread runs independent chains of fused multiply-adds on the widest
/// vectors this build executes, with no memory traffic. A datasheet peak needs the FMA units per core and the
/// sustained clock, which a program cannot read reliably (virtual machines hide both); this loop reaches what the
/// cores actually deliver, so a GEMM's share of it is its efficiency on this machine.
/// </summary>
public static class CpuPeak
{
    private const int Chains = 12; // enough independent FMAs in flight to cover latency × FMA ports on current x64 cores

    /// <summary>The vector width the loop (and our kernels) use in this build, in bits; 0 without hardware FMA.</summary>
    public static int VectorBits =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported ? 256 : 0;

    /// <summary>GFLOP/s of <paramref name="threads"/> threads running FMA chains for about <paramref name="seconds"/>
    /// (best of three runs), or null where this build has no hardware FMA (the peak is then unknown).</summary>
    public static double? MeasureGflops(int threads, double seconds)
    {
        int bits = VectorBits;
        if (bits == 0) return null;
        // Size the work from a short single-thread run so each timed run lasts about `seconds`.
        long probe = 200_000;
        long t0 = Stopwatch.GetTimestamp();
        Sink(Run(bits, probe));
        double perIteration = Math.Max(1e-12, Stopwatch.GetElapsedTime(t0).TotalSeconds / probe);
        long iterations = Math.Max(probe, (long)(seconds / 3 / perIteration));
        double flopsPerThread = 2.0 * Chains * (bits / 32) * iterations;

        double best = 0;
        for (int run = 0; run < 3; run++)
        {
            using var start = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() => { start.SignalAndWait(); Sink(Run(bits, iterations)); })).ToArray();
            foreach (var w in workers) w.Start();
            start.SignalAndWait();
            long begin = Stopwatch.GetTimestamp();
            foreach (var w in workers) w.Join();
            best = Math.Max(best, threads * flopsPerThread / Stopwatch.GetElapsedTime(begin).TotalSeconds / 1e9);
        }
        return best;
    }

    private static float Run(int bits, long iterations) => bits == 512 ? Chains512(iterations) : Chains256(iterations);

    private static float Chains512(long iterations)
    {
        Vector512<float> m = Vector512.Create(0.9999999f), a = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    private static float Chains256(long iterations)
    {
        Vector256<float> m = Vector256.Create(0.9999999f), a = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    // Keeps the chains' result observable so the loop cannot be removed as dead code.
    private static volatile float sink;

    private static void Sink(float value) => sink = value;
}
