namespace Cairn.CrashTest.Chaos;

/// <summary>One fault of the schedule: when (from the soak's start), what, on which node, for how long, and a seed of its own.</summary>
/// <param name="Node">The node it targets; -1 for the database and the storage folder.</param>
/// <param name="Hold">How long a pause or a fill lasts; zero for the others.</param>
/// <param name="Seed">For what the fault picks when it happens (the backends to terminate).</param>
internal sealed record ScheduledFault(TimeSpan At, FaultKind Kind, int Node, TimeSpan Hold, int Seed);
