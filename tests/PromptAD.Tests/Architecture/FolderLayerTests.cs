namespace PromptAD.Tests.Architecture;

/// <summary>
/// The folders of src/PromptAD are layers: no two import each other (nor import each other round a longer cycle), and
/// the command line (Cli/) is imported by nothing but the entry point, so that benches, the service and the pipeline
/// run without it.
/// </summary>
public sealed class FolderLayerTests
{
    private static readonly IReadOnlyList<SourceFile> Sources = FolderImports.Read(FolderImports.SourceRoot);

    [Fact]
    public void NoTwoFoldersImportEachOther()
    {
        var edges = FolderImports.Edges(Sources);
        var mutual = edges.Keys.Where(e => string.CompareOrdinal(e.From, e.To) < 0 && edges.ContainsKey((e.To, e.From)))
            .Select(e => $"{e.From} ↔ {e.To} ({e.From} → {e.To}: {string.Join(", ", edges[e])}; {e.To} → {e.From}: {string.Join(", ", edges[(e.To, e.From)])})")
            .ToList();
        Assert.True(mutual.Count == 0, "folders importing each other:\n" + string.Join("\n", mutual));
    }

    [Fact]
    public void FolderImportsFormNoCycle()
    {
        var cycle = FolderImports.FindCycle(FolderImports.Edges(Sources).Keys);
        Assert.True(cycle is null, $"folders importing round a cycle: {string.Join(" → ", cycle ?? [])}");
    }

    [Fact]
    public void OnlyTheEntryPointAndCliImportCli()
    {
        var importers = FolderImports.Edges(Sources).Where(e => e.Key.To == "Cli").SelectMany(e => e.Value)
            .Where(f => f != "Program.cs").ToList();
        Assert.True(importers.Count == 0, "files outside Cli/ importing PromptAD.Cli: " + string.Join(", ", importers));
    }

    [Fact]
    public void TheSourcesAreFound()
    {
        Assert.Contains(Sources, f => f.Path == "Program.cs" && f.Folder == "");
        Assert.True(Sources.Select(f => f.Folder).Distinct().Count() >= 10, "expected src/PromptAD's folders");
        Assert.DoesNotContain(Sources, f => f.Path.StartsWith("obj/", StringComparison.Ordinal));
    }

    /// <summary>The checks above can fail: on hand-written files each kind of import is an edge, prose and strings are not.</summary>
    [Fact]
    public void ImportsAreSeenInUsingsAndQualifiedNamesButNotInCommentsOrStrings()
    {
        SourceFile[] files =
        [
            new("Cli/Verb.cs", "Cli", "using PromptAD.Jobs;\nnamespace PromptAD.Cli;\ninternal static class Verb { }\n"),
            new("Jobs/Runner.cs", "Jobs", "namespace PromptAD.Jobs;\ninternal static class Runner { static void F() => Cli.Verb.ToString(); }\n"),
            new("Data/A.cs", "Data", "using static PromptAD.Model.Meta;\nnamespace PromptAD.Data;\npublic sealed record A;\n"),
            new("Model/Meta.cs", "Model", "using D = PromptAD.Data.A;\nnamespace PromptAD.Model;\npublic static class Meta { }\n"),
            new("Heatmaps/H.cs", "Heatmaps",
                "namespace PromptAD.Heatmaps;\n// see Data.A and using PromptAD.Data;\n/* Model.Meta */\ninternal static class H { const string S = \"Data.A\"; }\n"),
            new("Results/R.cs", "Results", "namespace PromptAD.Results;\ninternal static class R { static object F(object Data) => Data.ToString()!; }\n"),
            new("Program.cs", "", "using PromptAD.Cli;\n"),
        ];
        var edges = FolderImports.Edges(files);
        Assert.Equal(
            [("", "Cli"), ("Cli", "Jobs"), ("Data", "Model"), ("Jobs", "Cli"), ("Model", "Data")],
            edges.Keys.ToList());
        Assert.Equal(["Jobs/Runner.cs"], edges[("Jobs", "Cli")]);
        Assert.NotNull(FolderImports.FindCycle(edges.Keys));
        Assert.Null(FolderImports.FindCycle([("Cli", "Jobs"), ("Jobs", "Data"), ("Cli", "Data")]));
        Assert.Equal(["Data", "Model", "Data"], FolderImports.FindCycle([("Data", "Model"), ("Model", "Data")]));
    }
}
