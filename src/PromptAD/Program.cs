using System.CommandLine;
using PromptAD.Cli;

namespace PromptAD;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("promptad — few-shot industrial anomaly detection (PromptAD, CVPR 2024) on CLIP, without a deep-learning framework.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(TestCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(CalibrateCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(EncodeCommand.Create());
        root.Subcommands.Add(ProfileCommand.Create());
        root.Subcommands.Add(WeightsCommand.Create());
        // Our own handler turns known errors into one clear line (PROMPTAD_DEBUG=1 for the stack trace).
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.CommandResult.Command == root)
        {
            // Not the parser's "Required command was not provided": say which word was taken for a command, and the commands.
            string verbs = string.Join(", ", root.Subcommands.Select(c => c.Name));
            string what = args.Length > 0 && !args[0].StartsWith('-') ? $"unknown command '{args[0]}'" : "no command given";
            return CliErrors.ReportParseErrors([$"{what}; the commands are: {verbs}"], null);
        }
        if (parse.Errors.Count > 0)
            return CliErrors.ReportParseErrors(parse.Errors.Select(e => e.Message), parse.CommandResult.Command == root ? null : parse.CommandResult.Command.Name);
        return CliErrors.Run(() =>
        {
            int code = parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            return parse.Errors.Count > 0 ? CliErrors.Usage : code; // the parser already printed what was wrong
        });
    }
}
