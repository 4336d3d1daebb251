using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Cairn.Outbox;

/// <summary>
/// Delivers committed outbox messages: claims a batch (the first undelivered message of each run), publishes each to the
/// publisher of its destination, deletes the delivered ones and records the failures for a retry with backoff or the
/// dead letters. Woken at once when this engine commits messages or the store says another node did; else it polls.
/// </summary>
internal sealed class OutboxDispatcher(
    IOutboxStore store, IReadOnlyDictionary<string, IOutboxPublisher> publishers, CairnOptions options, string owner, TimeProvider clock, ILogger logger,
    CairnMetrics metrics)
{
    /// <summary>The destination whose publisher takes the messages of destinations without one of their own.</summary>
    public const string AnyDestination = "*";

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Looks for messages now instead of at the next poll.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var batch = await store.ClaimOutboxAsync(owner, options.OutboxBatchSize, options.OutboxClaimDuration, stopping).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    await WaitAsync(options.OutboxPollInterval, stopping).ConfigureAwait(false);
                    continue;
                }

                await DeliverAsync(batch, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.StoreError(logger, ex, "dispatching the outbox", options.OutboxPollInterval);
                await WaitAsync(options.OutboxPollInterval, stopping).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Publishes a batch: one message per run at most, so they go out concurrently without breaking any run's order.</summary>
    private async Task DeliverAsync(IReadOnlyList<OutboxMessage> batch, CancellationToken stopping)
    {
        var delivered = new ConcurrentQueue<Guid>();
        await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = stopping }, async (message, ct) =>
        {
            using var activity = Telemetry.StartOutboxActivity(message);
            try
            {
                var publisher = publishers.GetValueOrDefault(message.Destination) ?? publishers.GetValueOrDefault(AnyDestination)
                    ?? throw new InvalidOperationException($"no outbox publisher is registered for destination '{message.Destination}' on node {owner}");
                await publisher.PublishAsync(message, ct).ConfigureAwait(false);
                delivered.Enqueue(message.Id);
                metrics.OutboxDeliveryLatency.Record((clock.GetUtcNow() - message.CreatedAt).TotalSeconds);
                activity?.SetStatus(ActivityStatusCode.Ok);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                await RecordFailureAsync(message, ex, ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);

        if (!delivered.IsEmpty)
        {
            await store.MarkOutboxDeliveredAsync([.. delivered], owner, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task RecordFailureAsync(OutboxMessage message, Exception error, CancellationToken cancellationToken)
    {
        var policy = options.OutboxRetryPolicy;
        var description = $"{error.GetType().Name}: {error.Message}";
        if (message.Attempts > policy.MaxRetries || policy.IsPermanent(error))
        {
            Log.OutboxDeadLettered(logger, message.Id, message.RunId, message.Destination, message.Attempts, description);
            await store.MarkOutboxFailedAsync(message.Id, owner, description, null, cancellationToken).ConfigureAwait(false);
            return;
        }

        var delay = policy.DelayBefore(message.Attempts);
        Log.OutboxRetryScheduled(logger, message.Id, message.RunId, message.Destination, message.Attempts, delay, description);
        await store.MarkOutboxFailedAsync(message.Id, owner, description, clock.GetUtcNow() + delay, cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitAsync(TimeSpan interval, CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(interval, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
        try
        {
            await _wake.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            // The poll interval passed.
        }
    }
}
