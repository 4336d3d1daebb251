namespace Cairn;

public sealed partial class CairnEngine
{
    /// <summary>The most runs, and outbox messages, one count reads: a gauge or health check above it shows this many.</summary>
    internal const int CountLimit = 10_000;

    private static readonly RunStatus[] WaitingStatuses = [RunStatus.Pending, RunStatus.WaitingForRetry, RunStatus.Interrupted];

    private long _lastWorkerLoopTicks;
    private long _dueRunsSeen = -1;
    private long _outboxPendingSeen = -1;

    /// <summary>Whether the engine is started and not stopped.</summary>
    internal bool IsRunning => Volatile.Read(ref _state) == 1;

    /// <summary>When the claim loop last began an iteration; null before the engine started.</summary>
    internal DateTimeOffset? LastWorkerLoopAt => Volatile.Read(ref _lastWorkerLoopTicks) is var ticks and > 0
        ? new DateTimeOffset(ticks, TimeSpan.Zero)
        : null;

    /// <summary>The due runs counted at the last heartbeat while the gauge was observed; -1 before.</summary>
    internal long DueRunsSeen => Volatile.Read(ref _dueRunsSeen);

    /// <summary>The pending outbox messages counted at the last heartbeat while the gauge was observed; -1 before.</summary>
    internal long OutboxPendingSeen => Volatile.Read(ref _outboxPendingSeen);

    private void MarkWorkerLoop() => Volatile.Write(ref _lastWorkerLoopTicks, TimeProvider.GetUtcNow().UtcTicks);

    /// <summary>
    /// Counts the runs that are due now and wait to be claimed, up to <paramref name="limit"/>: read from the store's list of
    /// waiting runs (newest first), never from a run's own rows.
    /// </summary>
    internal async Task<int> CountDueRunsAsync(int limit, CancellationToken cancellationToken)
    {
        var waiting = await _queries.ListRunsAsync(new RunQuery { Statuses = WaitingStatuses, Limit = limit }, cancellationToken).ConfigureAwait(false);
        var now = TimeProvider.GetUtcNow();
        return waiting.Count(r => r.DueAt is not { } due || due <= now);
    }

    /// <summary>Counts what the gauges report, only while someone observes them: nothing is read from the store otherwise.</summary>
    internal async Task RefreshGaugesAsync(CancellationToken cancellationToken)
    {
        var metrics = Execution.Metrics;
        if (!metrics.GaugesObserved)
        {
            return;
        }

        try
        {
            if (metrics.DueRuns.Enabled)
            {
                Volatile.Write(ref _dueRunsSeen, await CountDueRunsAsync(CountLimit, cancellationToken).ConfigureAwait(false));
            }

            if (metrics.OutboxPending.Enabled && Store is IOutboxStore outbox)
            {
                var pending = await outbox.ListOutboxAsync(new OutboxQuery { Status = OutboxStatus.Pending, Limit = CountLimit }, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _outboxPendingSeen, pending.Count);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Log.StoreError(_logger, ex, "counting due runs and outbox messages for the gauges", _options.LeaseDuration / 3);
        }
    }
}
