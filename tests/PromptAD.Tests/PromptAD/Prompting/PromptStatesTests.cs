using PromptAD.Data;
using PromptAD.Prompting;
using PromptAD.Tests.Clip;

namespace PromptAD.Tests.Prompting;

/// <summary>prompts.json: the generic and per-category anomaly states and the class words the prompts are built from.</summary>
public sealed class PromptStatesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-prompts-").FullName;

    private static string SharedData => Path.Combine(ClipTestPaths.Shared, "data");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PromptStatesFromSharedFile()
    {
        PromptStates p = PromptStates.Load(Path.Combine(SharedData, "prompts.json"));
        Assert.Equal(
            ["damaged {}", "flawed {}", "abnormal {}", "imperfect {}", "blemished {}", "{} with flaw", "{} with defect", "{} with damage"],
            p.GenericStates);
        Assert.Equal(["{} with large breakage", "{} with small breakage", "{} with contamination"], p.StatesFor("bottle"));
        Assert.Equal("metal nut", p.ClassName("metal_nut"));
        Assert.Equal("printed circuit board", p.ClassName("pcb3"));
        Assert.Equal("bottle", p.ClassName("bottle"));
        Assert.Equal("hazelnut toy", p.ClassName("hazelnut_toy"));
        Assert.Empty(p.StatesFor("hazelnut_toy"));
        Assert.Equal(27, p.CategoryStates.Count);

        string noCategories = Path.Combine(_dir, "p.json"), notJson = Path.Combine(_dir, "q.json");
        File.WriteAllText(noCategories, "{\"generic_states\": [\"x\"]}");
        File.WriteAllText(notJson, "{not json");
        Assert.Throws<DatasetException>(() => PromptStates.Load(noCategories));
        Assert.Throws<DatasetException>(() => PromptStates.Load(notJson));
    }

    /// <summary>SPEC §5.1: a category prompts.json does not name gets its folder name's words as the class word.</summary>
    [Fact]
    public void ClassWord_WithoutAnEntry_IsTheFolderNameWithUnderscoresAndHyphensAsSpaces()
    {
        Assert.Equal("magnetic tile", PromptStates.FolderWords("magnetic_tile"));
        Assert.Equal("wood plank", PromptStates.FolderWords("wood-plank"));
        Assert.Equal("rusty metal plate", PromptStates.FolderWords("rusty-metal__plate_"));
        Assert.Equal("widget", PromptStates.FolderWords("widget"));
        Assert.Equal("_", PromptStates.FolderWords("_")); // nothing but separators: kept as it is rather than empty
        PromptStates p = PromptStates.Load(Path.Combine(SharedData, "prompts.json"));
        Assert.Equal("steel sheet", p.ClassName("steel-sheet"));
        Assert.Equal("printed circuit board", p.ClassName("pcb1")); // an entry wins
    }
}
