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
internal sealed class OutboxDispatcher
{
    /// <summary>The destination whose publisher takes the messages of destinations without one of their own.</summary>
    public const string AnyDestination = "*";

    private readonly IOutboxStore _store;
    private readonly IReadOnlyDictionary<string, IOutboxPublisher> _publishers;
    private readonly CairnOptions _options;
    private readonly string _owner;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly CairnMetrics _metrics;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public OutboxDispatcher(
        IOutboxStore store, IReadOnlyDictionary<string, IOutboxPublisher> publishers, CairnOptions options, string owner, TimeProvider clock, ILogger logger,
        CairnMetrics metrics)
    {
        _store = store;
        _publishers = publishers;
        _options = options;
        _owner = owner;
        _clock = clock;
        _logger = logger;
        _metrics = metrics;
    }

    /// <summary>Looks for messages now instead of at the next poll.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var batch = await _store.ClaimOutboxAsync(_owner, _options.OutboxBatchSize, _options.OutboxClaimDuration, stopping).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    await WaitAsync(_options.OutboxPollInterval, stopping).ConfigureAwait(false);
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
                Log.StoreError(_logger, ex, "dispatching the outbox", _options.OutboxPollInterval);
                await WaitAsync(_options.OutboxPollInterval, stopping).ConfigureAwait(false);
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
                var publisher = _publishers.GetValueOrDefault(message.Destination) ?? _publishers.GetValueOrDefault(AnyDestination)
                    ?? throw new InvalidOperationException($"no outbox publisher is registered for destination '{message.Destination}' on node {_owner}");
                await publisher.PublishAsync(message, ct).ConfigureAwait(false);
                delivered.Enqueue(message.Id);
                _metrics.OutboxDeliveryLatency.Record((_clock.GetUtcNow() - message.CreatedAt).TotalSeconds);
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
            await _store.MarkOutboxDeliveredAsync([.. delivered], _owner, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task RecordFailureAsync(OutboxMessage message, Exception error, CancellationToken cancellationToken)
    {
        var policy = _options.OutboxRetryPolicy;
        var description = $"{error.GetType().Name}: {error.Message}";
        if (message.Attempts > policy.MaxRetries || policy.IsPermanent(error))
        {
            Log.OutboxDeadLettered(_logger, message.Id, message.RunId, message.Destination, message.Attempts, description);
            await _store.MarkOutboxFailedAsync(message.Id, _owner, description, null, cancellationToken).ConfigureAwait(false);
            return;
        }

        var delay = policy.DelayBefore(message.Attempts);
        Log.OutboxRetryScheduled(_logger, message.Id, message.RunId, message.Destination, message.Attempts, delay, description);
        await _store.MarkOutboxFailedAsync(message.Id, _owner, description, _clock.GetUtcNow() + delay, cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitAsync(TimeSpan interval, CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(interval, _clock);
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
