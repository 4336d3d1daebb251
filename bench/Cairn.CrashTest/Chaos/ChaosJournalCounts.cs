namespace Cairn.CrashTest.Chaos;

/// <summary>What the nodes' journals hold, and the effect rows of the application table.</summary>
internal sealed record ChaosJournalCounts(int StageStarts, int Commits, int Deliveries, int TornLines, int EffectRows);
