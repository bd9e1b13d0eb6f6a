using PromptAD.Cli;
using PromptAD.Clip.Imaging;
using PromptAD.Data;

namespace PromptAD.Tests.Cli;

public sealed class CliErrorsTests
{
    private static (int Code, string Err) Run(Func<int> action, bool debug = false)
    {
        var w = new StringWriter();
        int code = CliErrors.Run(action, w, debug);
        return (code, w.ToString());
    }

    [Fact]
    public void KnownFailuresAreOneLineExitOne()
    {
        (int code, string err) = Run(() => throw new DatasetException("Category folder '/x/bottle' does not exist."));
        Assert.Equal(1, code);
        Assert.Equal("promptad: error: Category folder '/x/bottle' does not exist." + Environment.NewLine, err);

        (code, err) = Run(() => throw new ImageLoadException("/x/a.png", "file not found"));
        Assert.Equal(1, code);
        Assert.StartsWith("promptad: error: ", err);
        Assert.Contains("/x/a.png", err);
        Assert.Single(err.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));

        (code, err) = Run(() => throw new UnauthorizedAccessException("Access to '/out' is denied."));
        Assert.Equal(1, code);
        Assert.Equal("promptad: error: permission denied: Access to '/out' is denied." + Environment.NewLine, err);
    }

    [Fact]
    public void UsageErrorsExitTwoAndMessagesStayOnOneLine()
    {
        (int code, string err) = Run(() => throw new ArgumentException("--shots must be 1, 2 or 4\nsee --help"));
        Assert.Equal(2, code);
        Assert.Equal("promptad: error: --shots must be 1, 2 or 4 see --help" + Environment.NewLine, err);
    }

    [Fact]
    public void AggregateIsUnwrappedAndSuccessPassesThrough()
    {
        (int code, string err) = Run(() => throw new AggregateException(new IOException("disk full")));
        Assert.Equal(1, code);
        Assert.Equal("promptad: error: disk full" + Environment.NewLine, err);
        Assert.Equal((0, ""), Run(() => 0));
        Assert.Equal(130, Run(() => throw new OperationCanceledException()).Code);
    }

    [Fact]
    public void UnknownExceptionsNameTheTypeAndDebugShowsTheStack()
    {
        (int code, string err) = Run(() => throw new InvalidOperationException("oops"));
        Assert.Equal(1, code);
        Assert.StartsWith("promptad: error: internal error (InvalidOperationException): oops", err);
        Assert.Contains("PROMPTAD_DEBUG=1", err);
        Assert.DoesNotContain(" at ", err);

        (_, err) = Run(() => throw new DatasetException("bad"), debug: true);
        Assert.Contains("PromptAD.Data.DatasetException: bad", err);
        Assert.Contains(" at ", err);
    }
}
