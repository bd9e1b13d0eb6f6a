namespace PromptAD.Tests.Evaluation;

/// <summary>SpillFile.MemoryBudgetBytes is process-wide and counts every spill held in memory: tests that lower it run
/// alone, so no other test's spills fill the budget they set (or move to disk because of it).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SpillBudgetCollection
{
    public const string Name = "SpillBudget";
}
