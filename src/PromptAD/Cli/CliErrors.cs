using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Jobs;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Cli;

/// <summary>
/// Turns the failures a user can cause (bad paths, bad files, bad options) into one stderr line,
/// <c>promptad: error: …</c>, and an exit code, instead of a stack trace. Set PROMPTAD_DEBUG=1 for the full
/// exception (with inner exceptions and stack traces).
/// </summary>
/// <remarks>
/// Exit codes: 1 for failures (missing dataset, unreadable image, bad weights, I/O), 2 for usage errors
/// (<see cref="ArgumentException"/>, which option validation throws), 130 for cancellation (Ctrl+C, as shells do).
/// Unknown exception types are bugs: still one line, but naming the type and pointing at PROMPTAD_DEBUG.
/// </remarks>
public static class CliErrors
{
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Cancelled = 130;
    public const string DebugVariable = "PROMPTAD_DEBUG";

    /// <summary>Runs a verb's body, reporting any exception; returns the body's exit code or the error's.</summary>
    public static int Run(Func<int> action, TextWriter? stderr = null, bool? debug = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return action();
        }
        catch (Exception e)
        {
            return Report(e, stderr, debug);
        }
    }

    public static async Task<int> RunAsync(Func<Task<int>> action, TextWriter? stderr = null, bool? debug = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return Report(e, stderr, debug);
        }
    }

    /// <summary>Writes the error line (or, in debug mode, the full exception) and returns the exit code.</summary>
    public static int Report(Exception e, TextWriter? stderr = null, bool? debug = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        stderr ??= Console.Error;
        stderr.WriteLine("promptad: error: " + Describe(e));
        if (debug ?? IsDebug())
        {
            stderr.WriteLine(e.ToString());
        }
        else if (!IsKnown(e))
        {
            stderr.WriteLine($"promptad: this looks like a bug; run again with {DebugVariable}=1 for details and report it.");
        }

        stderr.Flush();
        return ExitCode(e);
    }

    public static int ExitCode(Exception e) => Unwrap(e) switch
    {
        OperationCanceledException => Cancelled,
        ArgumentException => Usage,
        _ => Failure,
    };

    /// <summary>True for the exceptions whose message is meant for the user.</summary>
    public static bool IsKnown(Exception e) => Unwrap(e) is DatasetException or ImageLoadException or SafeTensorsFormatException or Tensors.Checkpoints.CheckpointFormatException
        or ClipWeightsException or Model.ModelFileException or BackendUnavailableException or TrainingFailedException or ArgumentException or IOException or UnauthorizedAccessException or OperationCanceledException;

    /// <summary>The one-line message: known exceptions speak for themselves; others get their type name in front.</summary>
    public static string Describe(Exception e)
    {
        Exception inner = Unwrap(e);
        string message = inner switch
        {
            OperationCanceledException => "cancelled",
            UnauthorizedAccessException => "permission denied: " + inner.Message,
            _ when IsKnown(inner) => inner.Message,
            _ => $"internal error ({inner.GetType().Name}): {inner.Message}",
        };
        return OneLine(message);
    }

    /// <summary>
    /// The parser's errors as our one-line errors (exit 2): System.CommandLine's own lines lack the prefix and name
    /// CLR types (System.Nullable`1[System.Single]) where a user wants "a number".
    /// </summary>
    public static int ReportParseErrors(IEnumerable<string> messages, string? verb, TextWriter? stderr = null)
    {
        stderr ??= Console.Error;
        foreach (string m in messages) stderr.WriteLine("promptad: error: " + OneLine(FriendlyTypes(m)));
        stderr.WriteLine($"promptad: see `promptad {(verb is null ? "" : verb + " ")}--help`");
        stderr.Flush();
        return Usage;
    }

    internal static string FriendlyTypes(string message) => System.Text.RegularExpressions.Regex.Replace(message,
        @"System\.Nullable`1\[System\.(\w+)\]|System\.([\w.]+)", m => (m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value) switch
        {
            "Single" or "Double" => "a number",
            "Int32" or "Int64" => "an integer",
            "Boolean" => "true or false",
            "String" => "text",
            "IO.FileInfo" => "a file path",
            "IO.DirectoryInfo" => "a folder path",
            var other => other,
        });

    private static bool IsDebug()
    {
        string? v = Environment.GetEnvironmentVariable(DebugVariable);
        return v is not null && v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase) && v.Length > 0;
    }

    /// <summary>Parallel loops and tasks wrap the real failure; report the first one.</summary>
    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: > 0 } agg)
        {
            e = agg.InnerExceptions[0];
        }

        return e;
    }

    private static string OneLine(string s) =>
        string.Join(' ', s.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
