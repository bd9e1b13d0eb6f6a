namespace PromptAD.Tests;

/// <summary>Runs a program entry point with Console.Out/Error redirected, for tests that read what it printed.
/// Tests using it belong to the "Console" collection, whose tests run one after another.</summary>
internal static class ConsoleCapture
{
    public static (int Code, string Out, string Err) Run(Func<int> main)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            return (main(), o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
