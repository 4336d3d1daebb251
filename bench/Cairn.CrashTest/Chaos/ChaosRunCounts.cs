namespace Cairn.CrashTest.Chaos;

/// <summary>How the soak's runs ended: those the load generator started (children apart), and the detached children.</summary>
/// <param name="Compensated">Declined orders, compensated as planned, and runs that failed for good and were compensated.</param>
/// <param name="NotEnded">Runs, children included, that had not ended when the soak drained: each is a violation.</param>
internal sealed record ChaosRunCounts(int Started, int Completed, int Compensated, int Failed, int NotEnded, int Children);
