using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Outbox;

public sealed class OutboxTests(ITestOutputHelper output) : EngineTest(output)
{
    private readonly ConcurrentQueue<OutboxMessage> _delivered = new();

    [Fact]
    public async Task MessagesOfAStage_AreDeliveredAfterTheCheckpointCommits_InOrder_WithStableIdsAndJsonBodies()
    {
        var flow = Flow.Create<TestState>("orders")
            .Stage("save", (c, _) =>
            {
                c.Outbox.Add("NewOrder", new { Order = 42 });
                c.Outbox.Add("NewOrder", new { Order = 43 });
                return Task.CompletedTask;
            })
            .RecoveryPoint("saved")
            .Stage("finish", (c, _) => Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow, build: b => b.AddOutboxPublisher("NewOrder", Record));

        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(engine.WaitForRunAsync(flow, run.Id));
        await WaitForDeliveriesAsync(2);

        Assert.Equal([StoreRules.OutboxMessageId(run.Id, 1, 0), StoreRules.OutboxMessageId(run.Id, 1, 1)], _delivered.Select(m => m.Id));
        Assert.Equal(["{\"order\":42}", "{\"order\":43}"], _delivered.Select(m => Encoding.UTF8.GetString(m.Payload.Span)));
        Assert.All(_delivered, m => Assert.Equal((run.Id, "NewOrder", 1), (m.RunId, m.Destination, m.Attempts)));
        Assert.Empty(await Store.ListOutboxAsync(new OutboxQuery(), Ct));
    }

    [Fact]
    public async Task MessagesAfterTheLastRecoveryPoint_CommitWithTheCompletion()
    {
        var flow = Flow.Create<TestState>("orders")
            .Stage("save", (c, _) => Task.CompletedTask)
            .RecoveryPoint("saved")
            .Stage("publish", (c, _) =>
            {
                c.Outbox.AddPayload("NewOrder", "{\"order\":7}"u8.ToArray());
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(flow, build: b => b.AddOutboxPublisher("*", Record));

        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(engine.WaitForRunAsync(flow, run.Id));
        await WaitForDeliveriesAsync(1);

        var message = Assert.Single(_delivered);
        Assert.Equal((StoreRules.OutboxMessageId(run.Id, 2, 0), 2L, "{\"order\":7}"), (message.Id, message.CheckpointSequence, Encoding.UTF8.GetString(message.Payload.Span)));
    }

    [Fact]
    public async Task AStageThatFails_SendsNothing_AndItsRetrySendsItsMessagesOnce()
    {
        var tries = 0;
        var flow = Flow.Create<TestState>("orders")
            .Stage("save", (c, _) =>
            {
                c.Outbox.Add("NewOrder", new { Try = ++tries });
                return tries == 1 ? throw new InvalidOperationException("database busy") : Task.CompletedTask;
            })
            .RecoveryPoint("saved")
            .Stage("finish", (c, _) => Task.CompletedTask)
            .Retry(p => p with { MaxRetries = 1, Interval = TimeSpan.FromSeconds(1) })
            .Build();
        var engine = CreateEngine(flow, build: b => b.AddOutboxPublisher("NewOrder", Record));

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Time.Advance(TimeSpan.FromSeconds(1));
        await Within(engine.WaitForRunAsync(flow, run.Id));
        await WaitForDeliveriesAsync(1);

        var message = Assert.Single(_delivered);
        Assert.Equal(2, JsonDocument.Parse(message.Payload).RootElement.GetProperty("try").GetInt32());
    }

    [Fact]
    public async Task AFailingPublisher_IsRetriedWithBackoff_WithTheSameId_ThenDeadLettered_AndRedriveSendsItAgain()
    {
        var failures = 2;
        var calls = new ConcurrentQueue<Guid>();
        var flow = OneMessageFlow();
        var engine = CreateEngine(
            flow,
            o => o.OutboxRetryPolicy = new RetryPolicy { MaxRetries = 1, Interval = TimeSpan.FromSeconds(10), BackoffFactor = 1 },
            b => b.AddOutboxPublisher("NewOrder", (message, ct) =>
            {
                calls.Enqueue(message.Id);
                return Interlocked.Decrement(ref failures) >= 0 ? throw new IOException("broker down") : Record(message, ct);
            }));

        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(engine.WaitForRunAsync(flow, run.Id));
        await WaitUntilAsync(() => calls.Count == 1 && Store.ListOutboxAsync(new OutboxQuery(), Ct).Result is [{ LastError: not null }]);
        var pending = Assert.Single(await Store.ListOutboxAsync(new OutboxQuery { Status = OutboxStatus.Pending }, Ct));
        Assert.Equal(("IOException: broker down", Time.GetUtcNow() + TimeSpan.FromSeconds(10)), (pending.LastError, pending.DueAt));

        Time.Advance(TimeSpan.FromSeconds(10));
        await WaitUntilAsync(() => calls.Count == 2);
        var dead = await WaitForDeadLetterAsync();
        Assert.Equal((2, "IOException: broker down"), (dead.Attempts, dead.LastError));
        Assert.Empty(_delivered);

        Assert.Equal(1, await engine.Operator.RedriveOutboxAsync(cancellationToken: Ct));
        await WaitForDeliveriesAsync(1);
        Assert.Equal([StoreRules.OutboxMessageId(run.Id, 1, 0)], calls.Distinct());
        Assert.Equal(StoreRules.OutboxMessageId(run.Id, 1, 0), Assert.Single(_delivered).Id);
    }

    [Fact]
    public async Task AMessageWithoutAPublisher_IsRetriedThenDeadLetteredWithAClearError()
    {
        var flow = OneMessageFlow();
        var engine = CreateEngine(
            flow,
            o => o.OutboxRetryPolicy = RetryPolicy.None,
            b => b.AddOutboxPublisher("Other", Record));

        var run = await engine.StartRunAsync(flow, new TestState());
        await Within(engine.WaitForRunAsync(flow, run.Id));

        var dead = await WaitForDeadLetterAsync();
        Assert.Equal(run.Id, dead.RunId);
        Assert.StartsWith($"InvalidOperationException: no outbox publisher is registered for destination 'NewOrder' on node {engine.NodeName}", dead.LastError);
    }

    [Fact]
    public void AddOutboxPublisher_TwiceForOneDestination_IsRefused()
    {
        var builder = CairnEngine.CreateBuilder().AddOutboxPublisher("NewOrder", Record);

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddOutboxPublisher("NewOrder", Record));

        Assert.Equal("The outbox destination 'NewOrder' already has a publisher.", error.Message);
    }

    private static Flow<TestState> OneMessageFlow() =>
        Flow.Create<TestState>("orders")
            .Stage("save", (c, _) =>
            {
                c.Outbox.Add("NewOrder", new { Order = 1 });
                return Task.CompletedTask;
            })
            .RecoveryPoint("saved")
            .Stage("finish", (c, _) => Task.CompletedTask)
            .Build();

    private Task Record(OutboxMessage message, CancellationToken cancellationToken)
    {
        _delivered.Enqueue(message);
        return Task.CompletedTask;
    }

    private async Task<OutboxMessage> WaitForDeadLetterAsync()
    {
        OutboxMessage? dead = null;
        await WaitUntilAsync(() => (dead = Store.ListOutboxAsync(new OutboxQuery { Status = OutboxStatus.DeadLettered }, Ct).Result is [var first, ..] ? first : null) is not null);
        return dead!;
    }

    private Task WaitForDeliveriesAsync(int count) => WaitUntilAsync(() => _delivered.Count >= count && Store.ListOutboxAsync(new OutboxQuery(), Ct).Result.Count == 0);
}
