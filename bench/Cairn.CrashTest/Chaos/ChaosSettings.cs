namespace Cairn.CrashTest.Chaos;

/// <summary>What a chaos soak was asked to do.</summary>
/// <param name="Duration">How long runs are started and faults injected; the drain and the checks come after.</param>
/// <param name="Rate">Runs started per second.</param>
/// <param name="DrainTimeout">How long the nodes may take, once the faults stop, to finish every run.</param>
/// <param name="WorkFolder">Where the journals, the node logs and the storage folder go.</param>
internal sealed record ChaosSettings(TimeSpan Duration, int Seed, double Rate, int Nodes, TimeSpan Lease, int Concurrency, TimeSpan DrainTimeout, string WorkFolder);
