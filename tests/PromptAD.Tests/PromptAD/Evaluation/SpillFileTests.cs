using PromptAD.Evaluation;

namespace PromptAD.Tests.Evaluation;

/// <summary>The spill reads back exactly what was written, in memory and after moving to a temporary file when the
/// process's spill budget is spent.</summary>
[Collection("SpillBudget")]
public sealed class SpillFileTests
{
    private static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static byte[] ReadAll(SpillFile spill, long offset = 0)
    {
        using var s = spill.OpenRead(offset);
        var all = new byte[spill.Length - offset];
        s.ReadExactly(all);
        Assert.Equal(0, s.Read(new byte[1]));
        return all;
    }

    [Fact]
    public void InMemory_ReadsBackAcrossChunks_FromAnyOffset()
    {
        using var spill = new SpillFile("promptad-test");
        var a = Bytes((1 << 20) - 3, 1);
        var b = Bytes((1 << 20) + 10, 2);
        spill.Write(a);
        spill.Write(b);
        Assert.Contains("in memory", spill.FilePath);
        byte[] expected = [.. a, .. b];
        Assert.Equal(expected, ReadAll(spill));
        Assert.Equal(expected[12345..], ReadAll(spill, 12345));
    }

    [Fact]
    public void PastTheBudget_MovesToATemporaryFile_WithEverythingWrittenBefore()
    {
        long budget = SpillFile.MemoryBudgetBytes;
        SpillFile.MemoryBudgetBytes = 2 << 20;
        try
        {
            using var spill = new SpillFile("promptad-test");
            var a = Bytes(1 << 20, 3);
            spill.Write(a);
            Assert.Contains("in memory", spill.FilePath);
            var b = Bytes((2 << 20) + 5, 4);
            spill.Write(b);
            Assert.True(File.Exists(spill.FilePath), spill.FilePath);
            Assert.Equal([.. a, .. b], ReadAll(spill));
            using var second = new SpillFile("promptad-test"); // the first gave its memory back when it moved
            second.Write(a);
            Assert.Contains("in memory", second.FilePath);
        }
        finally
        {
            SpillFile.MemoryBudgetBytes = budget;
        }
    }
}
