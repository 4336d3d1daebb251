using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Chaos;

/// <summary>The figures and violations of one chaos soak; written as JSON with <c>--json</c>, its properties in this order.</summary>
/// <param name="FaultsScheduled">Per kind, the faults the seed's schedule holds.</param>
/// <param name="FaultsInjected">Per kind, the faults that took effect.</param>
/// <param name="Ended">The runs (children included) that ended neither completed nor compensated as planned, with their errors.</param>
/// <param name="Notes">What the soak left out, or saw and did not count as a violation.</param>
internal sealed record ChaosReport(
    int Seed,
    double DurationSeconds,
    double Rate,
    int Nodes,
    double LeaseSeconds,
    int Concurrency,
    IReadOnlyDictionary<FaultKind, int> FaultsScheduled,
    IReadOnlyDictionary<FaultKind, int> FaultsInjected,
    ChaosRunCounts Runs,
    IReadOnlyDictionary<string, int> CompletedByFlow,
    IReadOnlyList<ThroughputBucket> Throughput,
    int NodeProcesses,
    ChaosJournalCounts Journals,
    int StoreChecks,
    int CheckpointsVerified,
    double DrainSeconds,
    double ElapsedSeconds,
    IReadOnlyList<FaultRecord> Faults,
    IReadOnlyList<string> Ended,
    IReadOnlyList<string> Notes,
    IReadOnlyDictionary<ViolationKind, int> ViolationsByKind,
    IReadOnlyList<Violation> Violations);
