namespace PromptAD.Model;

/// <summary>One head's learned vectors, row-major: ctx [nPro·nCtx, Width] and ctx_ab [nProAb·nCtxAb, Width].</summary>
public sealed record HeadVectors(float[] Ctx, float[] CtxAb, int Width)
{
    public int CtxRows => Ctx.Length / Width;
    public int CtxAbRows => CtxAb.Length / Width;
}

/// <summary>A memory bank: normalized mid-level patch features of all few-shot images, [Rows, Width] row-major.</summary>
public sealed record MemoryBank(float[] Data, int Rows, int Width);
