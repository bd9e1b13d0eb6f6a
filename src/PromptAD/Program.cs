using System.CommandLine;
using PromptAD.Cli;

namespace PromptAD;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("promptad — few-shot industrial anomaly detection (PromptAD, CVPR 2024) on CLIP, without a deep-learning framework.");
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(EncodeCommand.Create());
        return root.Parse(args).Invoke();
    }
}
