using System.Text;
using PromptAD.Files;

namespace PromptAD.Tests.Files;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("promptad-atomic-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void WritesTextWithoutBomAndCreatesFolder()
    {
        string path = Path.Combine(temp, "a", "b", "out.csv");
        AtomicFile.WriteAllText(path, "héllo\n");
        Assert.Equal(Encoding.UTF8.GetBytes("héllo\n"), File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void OverwritesBytes()
    {
        string path = Path.Combine(temp, "x.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3, 4]);
        AtomicFile.WriteAllBytes(path, [9]);
        Assert.Equal([9], File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(temp));
    }

    [Fact]
    public void FailureMidWriteKeepsEarlierFileAndRemovesTemp()
    {
        string path = Path.Combine(temp, "metrics.json");
        AtomicFile.WriteAllText(path, "old");
        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[100_000]);
            throw new InvalidOperationException("disk on fire");
        }));
        Assert.Equal("disk on fire", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(temp));
    }

    [Fact]
    public void FailureWithoutEarlierFileLeavesNothing()
    {
        string path = Path.Combine(temp, "new.png");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, _ => throw new IOException("boom")));
        Assert.Empty(Directory.GetFiles(temp));
    }
}
