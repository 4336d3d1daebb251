namespace Cairn.CrashTest.Chaos;

/// <summary>What the nodes' journals and the store hold of the soak's work.</summary>
/// <param name="Resumes">Attempts after a run's first (the store's Started events): runs taken over, retried, or resumed after a timer, a signal or a child.</param>
/// <param name="StagesRunAgain">Places (a run's stage in an iteration) started in more than one attempt: work a fault made the library redo, as it may where no recovery point covered it.</param>
/// <param name="EffectRows">The rows of the application table, one per transactional effect.</param>
internal sealed record ChaosJournalCounts(int StageStarts, int Commits, int Deliveries, int TornLines, int Resumes, int StagesRunAgain, int EffectRows);
