namespace Cairn.Bench;

/// <summary>
/// Counts the round trips this process makes to PostgreSQL while it listens: Npgsql starts one activity per command or
/// batch it sends (a batch is one round trip), on its ActivitySource "Npgsql". Listening makes Npgsql create those
/// activities, so a workload counts in a pass of its own, not while it measures time.
/// </summary>
internal sealed class RoundTripCounter : IDisposable
{
    private readonly ActivityListener _listener;
    private long _count;

    public RoundTripCounter()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
            ActivityStopped = _ => Interlocked.Increment(ref _count),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public long Count => Interlocked.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
