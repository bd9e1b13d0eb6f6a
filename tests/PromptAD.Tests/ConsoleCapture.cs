namespace PromptAD.Tests;

/// <summary>Runs a program entry point with Console.Out/Error redirected, for tests that read what it printed.
/// Tests using it belong to the "Console" collection, whose tests run one after another; a capture from a test of
/// another collection (one that must also run alone for another reason, such as the trace sink) still waits for the
/// one in progress, since Console.Out is one for the whole process.</summary>
internal static class ConsoleCapture
{
    private static readonly Lock Gate = new();

    public static (int Code, string Out, string Err) Run(Func<int> main)
    {
        lock (Gate) return RunAlone(main);
    }

    private static (int Code, string Out, string Err) RunAlone(Func<int> main)
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
