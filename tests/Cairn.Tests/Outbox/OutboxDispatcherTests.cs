using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Cairn.Diagnostics;
using Cairn.Outbox;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Xunit.Abstractions;

namespace Cairn.Tests.Outbox;

/// <summary>
/// The outbox dispatcher alone, over an outbox store the test scripts: when it claims again, how many messages it
/// publishes at once, and what it records, measures and logs for a delivery, a retry and a dead letter.
/// </summary>
public sealed class OutboxDispatcherTests(ITestOutputHelper output) : EngineTest(output), IDisposable
{
    private static readonly TimeSpan Poll = new CairnOptions().OutboxPollInterval;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Meter _meter = new($"cairn-tests-{Guid.NewGuid():N}");

    [Fact]
    public async Task AnEmptyClaim_IsFollowedByTheNextAfterThePollInterval_OrAtOnceOnAWakeUp()
    {
        var store = new ScriptedOutbox(Time);
        var dispatcher = Start(store, Publish);

        await WaitUntilAsync(() => !store.Claims.IsEmpty);
        await AdvanceUntilAsync(TimeSpan.FromMilliseconds(100), () => store.Claims.Count >= 2, "the second claim");
        var woken = Time.GetUtcNow();
        dispatcher.Wake();
        await WaitUntilAsync(() => store.Claims.Count >= 3);

        var claims = store.Claims.ToArray();
        Assert.True(claims[1] - claims[0] >= Poll, $"the second claim came {claims[1] - claims[0]} after the first");
        Assert.Equal(woken, claims[2]);
    }

    [Fact]
    public async Task AClaimThatFails_IsLoggedAsAStoreError_AndTriedAgainAfterThePollInterval()
    {
        var store = new ScriptedOutbox(Time);
        store.Next(() => throw new IOException("disk gone"));
        store.Next(() => [Message()]);
        Start(store, Publish);

        await WaitUntilAsync(() => !store.Claims.IsEmpty);
        await AdvanceUntilAsync(TimeSpan.FromMilliseconds(100), () => !store.Delivered.IsEmpty, "the delivery after the failed claim");

        var claims = store.Claims.ToArray();
        Assert.True(claims[1] - claims[0] >= Poll, $"the claim after the failure came {claims[1] - claims[0]} after it");
        var error = Assert.Single(Logs.GetSnapshot(), r => r.Id.Id == CairnEventId.StoreError);
        Assert.Equal("The store failed while dispatching the outbox; retrying in 00:00:01", error.Message);
        Assert.IsType<IOException>(error.Exception);
    }

    [Fact]
    public async Task ABatch_IsPublishedSixteenMessagesAtATime()
    {
        var store = new ScriptedOutbox(Time);
        store.Next(() => [.. Enumerable.Range(0, 20).Select(_ => Message())]);
        var gate = NewGate();
        var inFlight = 0;
        var most = 0;
        Start(store, async (_, ct) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            lock (gate)
            {
                most = Math.Max(most, now);
            }

            await gate.Task.WaitAsync(ct);
            Interlocked.Decrement(ref inFlight);
        });

        await WaitUntilAsync(() => Volatile.Read(ref inFlight) == 16);
        gate.TrySetResult();
        await WaitUntilAsync(() => store.Delivered.Count == 20);

        lock (gate)
        {
            Assert.Equal(16, most);
        }
    }

    [Fact]
    public async Task ADelivery_MeasuresTheTimeFromTheCommitToThePublishersAcceptance()
    {
        using var latency = new MetricCollector<double>(_meter, "cairn.outbox.delivery.latency");
        var store = new ScriptedOutbox(Time);
        store.Next(() => [Message() with { CreatedAt = Time.GetUtcNow() - TimeSpan.FromSeconds(5) }]);
        Start(store, Publish);

        await WaitUntilAsync(() => !store.Delivered.IsEmpty);

        Assert.Equal(5, Assert.Single(latency.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public async Task AFailedDeliveryWithRetriesLeft_IsScheduledAfterTheBackoff_AndLoggedAsAWarning()
    {
        var store = new ScriptedOutbox(Time);
        var message = Message() with { Attempts = 2 };
        store.Next(() => [message]);
        Start(store, (_, _) => throw new IOException("broker down"), new RetryPolicy { MaxRetries = 2, Interval = TimeSpan.FromSeconds(10), BackoffFactor = 3 });

        await WaitUntilAsync(() => store.Claims.Count >= 2);

        Assert.Equal((message.Id, "IOException: broker down", Time.GetUtcNow() + TimeSpan.FromSeconds(30)), Assert.Single(store.Failures));
        Assert.Empty(store.Delivered);
        var warning = Assert.Single(Logs.GetSnapshot(), r => r.Id.Id is CairnEventId.OutboxRetryScheduled or CairnEventId.OutboxDeadLettered);
        Assert.Equal(
            $"Outbox message {message.Id} of run {message.RunId} to 'NewOrder' failed on delivery 2; retry in 00:00:30: IOException: broker down",
            warning.Message);
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(1, true)]
    public async Task AFailedDeliveryWithoutRetriesLeft_OrAPermanentError_IsDeadLetteredOnce_AndLoggedAsAnError(int attempts, bool permanent)
    {
        var store = new ScriptedOutbox(Time);
        var message = Message() with { Attempts = attempts };
        store.Next(() => [message]);
        var policy = new RetryPolicy { MaxRetries = 2, Interval = TimeSpan.FromSeconds(10) };
        Start(store, (_, _) => throw new TimeoutException("broker slow"), permanent ? policy.WithPermanent<TimeoutException>() : policy);

        // After a batch it claims again at once: the second claim comes after the failure was recorded in full.
        await WaitUntilAsync(() => store.Claims.Count >= 2);

        Assert.Equal((message.Id, "TimeoutException: broker slow", (DateTimeOffset?)null), Assert.Single(store.Failures));
        var error = Assert.Single(Logs.GetSnapshot(), r => r.Id.Id is CairnEventId.OutboxRetryScheduled or CairnEventId.OutboxDeadLettered);
        Assert.Equal(
            $"Outbox message {message.Id} of run {message.RunId} to 'NewOrder' is dead-lettered after {attempts} deliveries: TimeoutException: broker slow",
            error.Message);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
        _meter.Dispose();
    }

    private static Task Publish(OutboxMessage message, CancellationToken cancellationToken) => Task.CompletedTask;

    private OutboxMessage Message() =>
        new(Guid.NewGuid(), RunId.New(), 1, 0, "NewOrder", "{}"u8.ToArray()) { Attempts = 1, CreatedAt = Time.GetUtcNow() };

    private OutboxDispatcher Start(ScriptedOutbox store, Func<OutboxMessage, CancellationToken, Task> publish, RetryPolicy? retry = null)
    {
        var options = new CairnOptions();
        if (retry is not null)
        {
            options.OutboxRetryPolicy = retry;
        }

        var dispatcher = new OutboxDispatcher(
            store,
            new Dictionary<string, IOutboxPublisher> { ["NewOrder"] = new DelegateOutboxPublisher(publish) },
            options,
            "node-1",
            Time,
            new TestLoggerFactory(Output, Logs).CreateLogger("Cairn.Outbox"),
            new CairnMetrics(_meter));
        _ = Task.Run(() => dispatcher.RunAsync(_stopping.Token));
        return dispatcher;
    }

    /// <summary>An outbox whose claims return the batches the test queued (then nothing), recording every call with the fake clock's time.</summary>
    private sealed class ScriptedOutbox(TimeProvider clock) : IOutboxStore
    {
        private readonly ConcurrentQueue<Func<IReadOnlyList<OutboxMessage>>> _batches = new();

        public ConcurrentQueue<DateTimeOffset> Claims { get; } = new();

        public ConcurrentQueue<Guid> Delivered { get; } = new();

        public ConcurrentQueue<(Guid Id, string Error, DateTimeOffset? RetryAt)> Failures { get; } = new();

        public void Next(Func<IReadOnlyList<OutboxMessage>> batch) => _batches.Enqueue(batch);

        public Task<IReadOnlyList<OutboxMessage>> ClaimOutboxAsync(string owner, int maxMessages, TimeSpan claimDuration, CancellationToken cancellationToken)
        {
            Claims.Enqueue(clock.GetUtcNow());
            return Task.FromResult(_batches.TryDequeue(out var batch) ? batch() : []);
        }

        public Task<int> MarkOutboxDeliveredAsync(IReadOnlyList<Guid> ids, string owner, CancellationToken cancellationToken)
        {
            foreach (var id in ids)
            {
                Delivered.Enqueue(id);
            }

            return Task.FromResult(ids.Count);
        }

        public Task<bool> MarkOutboxFailedAsync(Guid id, string owner, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken)
        {
            Failures.Enqueue((id, error, retryAt));
            return Task.FromResult(true);
        }

        public Task<IReadOnlyList<OutboxMessage>> ListOutboxAsync(OutboxQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<int> RedriveOutboxAsync(IReadOnlyList<Guid>? ids, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
