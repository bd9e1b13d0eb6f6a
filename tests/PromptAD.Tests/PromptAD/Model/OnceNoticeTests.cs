using PromptAD.Model;

namespace PromptAD.Tests.Model;

/// <summary>Notices go to standard error once per process, however often they are triggered.</summary>
[Collection("Console")]
public sealed class OnceNoticeTests
{
    [Fact]
    public void SameNotice_IsWrittenOnce()
    {
        string message = $"test notice {Guid.NewGuid():N}";
        var old = Console.Error;
        var err = new StringWriter();
        Console.SetError(err);
        try
        {
            OnceNotice.Write(message);
            OnceNotice.Write(message);
        }
        finally
        {
            Console.SetError(old);
        }
        // Other tests may write to standard error meanwhile: count only this notice's lines.
        var lines = err.ToString().Split(Environment.NewLine);
        Assert.Single(lines, l => l.Contains(message, StringComparison.Ordinal));
        Assert.Contains($"promptad: notice: {message}", lines);
    }
}
