using PromptAD.Evaluation;

namespace PromptAD.Tests.Evaluation;

/// <summary>The spill reads back exactly what was written, in memory and after moving to a temporary file when the
/// process's spill budget is spent.</summary>
[Collection(SpillBudgetCollection.Name)]
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
    private static byte[] Concat(IEnumerable<ReadOnlyMemory<byte>> blocks, int recordBytes)
    {
        var all = new List<byte>();
        foreach (var block in blocks)
        {
            Assert.True(block.Length > 0 && block.Length % recordBytes == 0, $"a block of {block.Length} bytes");
            all.AddRange(block.ToArray()); // a block is valid until the next one is asked for
        }
        return [.. all];
    }

    [Fact]
    public void Blocks_AreWholeRecords_InMemoryAndOnDisk()
    {
        var a = Bytes((3 << 20) + 24, 5); // three full chunks and a part, in 8-byte records
        using (var inMemory = new SpillFile("promptad-test"))
        {
            inMemory.Write(a);
            Assert.Contains("in memory", inMemory.FilePath);
            Assert.Equal(a, Concat(inMemory.Blocks(8), 8));
            Assert.Equal(4, inMemory.Blocks(8).Count());
        }

        long budget = SpillFile.MemoryBudgetBytes;
        SpillFile.MemoryBudgetBytes = 1 << 20;
        try
        {
            using var onDisk = new SpillFile("promptad-test");
            onDisk.Write(a);
            Assert.True(File.Exists(onDisk.FilePath), onDisk.FilePath);
            Assert.Equal(a, Concat(onDisk.Blocks(4), 4));
        }
        finally
        {
            SpillFile.MemoryBudgetBytes = budget;
        }
    }

    [Fact]
    public void Blocks_RefuseASpillThatEndsInsideARecord_OrARecordThatDoesNotDivideAChunk()
    {
        using var spill = new SpillFile("promptad-test");
        spill.Write(Bytes(12, 6));
        var e = Assert.Throws<IOException>(() => spill.Blocks(8).ToList());
        Assert.Contains("ends inside a record", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => spill.Blocks(12).ToList());
        Assert.Single(spill.Blocks(4));
    }
}
