using PromptAD.Bench;

namespace PromptAD.Tests.Bench;

public class BenchArgsTests
{
    private static readonly string[] Args = ["--config", "tiny-test", "--reps", "3", "--min-time", "0.25", "--no-torch"];

    [Fact]
    public void ReadsValuesFlagsAndFallbacks()
    {
        Assert.Equal("tiny-test", BenchArgs.String(Args, "--config"));
        Assert.Null(BenchArgs.String(Args, "--python"));
        Assert.Null(BenchArgs.String(["--python"], "--python"));
        Assert.True(BenchArgs.Flag(Args, "--no-torch"));
        Assert.False(BenchArgs.Flag(Args, "--no-reference"));
        Assert.Equal(3, BenchArgs.Int(Args, "--reps", 1));
        Assert.Equal(7, BenchArgs.Int(Args, "--epochs", 7));
        Assert.Equal(0.25, BenchArgs.Double(Args, "--min-time", 1.0));
        Assert.Equal(1.0, BenchArgs.Double(Args, "--max-time", 1.0));
    }

    [Fact]
    public void RejectsBadNumbers()
    {
        Assert.Throws<ArgumentException>(() => BenchArgs.Int(["--reps", "0"], "--reps", 1));
        Assert.Throws<ArgumentException>(() => BenchArgs.Int(["--reps", "x"], "--reps", 1));
        Assert.Throws<ArgumentException>(() => BenchArgs.Double(["--min-time", "-1"], "--min-time", 1));
    }

    [Fact]
    public void Unknown_NamesTheFirstUnknownOrAValuelessOption()
    {
        string[] valued = ["--reps", "--config", "--min-time"], flags = ["--no-torch"];
        Assert.Null(BenchArgs.Unknown(Args, valued, flags));
        Assert.Equal("--bogus", BenchArgs.Unknown(["--reps", "2", "--bogus"], valued, flags));
        Assert.Equal("--reps", BenchArgs.Unknown(["--no-torch", "--reps"], valued, flags));
    }
}
