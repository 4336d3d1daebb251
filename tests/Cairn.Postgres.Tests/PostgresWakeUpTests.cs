using System.Threading.Channels;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Postgres.Tests;

/// <summary>LISTEN/NOTIFY wake-ups between nodes on one database, and their recovery after a lost connection.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresWakeUpTests(PostgresCluster cluster) : PostgresSchemaTest(cluster, "wake")
{
    [Fact]
    public async Task SubscribeToWakeUpsAsync_RunCreatedAndRerunOnAnotherNode_WakesTheSubscriber()
    {
        var node = await OpenAsync();
        var other = await OpenAsync();
        var wakeUps = Channel.CreateUnbounded<bool>();
        DisposeAfterTest((await node.SubscribeToWakeUpsAsync(() => wakeUps.Writer.TryWrite(true), Ct))!);

        var created = await other.CreateRunAsync(NewRun("order-1"), Ct);
        await wakeUps.Reader.ReadAsync().AsTask().WaitAsync(Timeout);

        var claimed = Assert.Single(await other.ClaimDueRunsAsync(new ClaimRequest("other", ["orders"], 1, TimeSpan.FromMinutes(5)), Ct));
        await other.TransitionAsync(claimed.Lease, new RunTransition(RunStatus.Failed, RunEventKind.Failed, "failed") { LastError = "boom" }, Ct);
        while (wakeUps.Reader.TryRead(out _))
        {
        }

        await other.RequestRerunAsync(created.Run.Id, "re-run requested", Ct);
        await wakeUps.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
    }

    [Fact]
    public async Task SubscribeToWakeUpsAsync_RerunFromACheckpointOnAnotherNode_WakesTheSubscriber()
    {
        var node = await OpenAsync();
        var other = await OpenAsync();
        var wakeUps = Channel.CreateUnbounded<bool>();
        DisposeAfterTest((await node.SubscribeToWakeUpsAsync(() => wakeUps.Writer.TryWrite(true), Ct))!);
        var created = await other.CreateRunAsync(NewRun("order-3"), Ct);
        var claimed = Assert.Single(await other.ClaimDueRunsAsync(new ClaimRequest("other", ["orders"], 1, TimeSpan.FromMinutes(5)), Ct));
        await other.SaveCheckpointAsync(claimed.Lease, new Checkpoint(1, FlowPath.Of(1), "loaded", null, new byte[] { 2 }, "c"), 1, Ct);
        await other.TransitionAsync(claimed.Lease, new RunTransition(RunStatus.Failed, RunEventKind.Failed, "failed") { LastError = "boom" }, Ct);
        await wakeUps.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        while (wakeUps.Reader.TryRead(out _))
        {
        }

        await other.RequestRerunFromAsync(created.Run.Id, 1, state: null, "re-run requested", Ct);

        await wakeUps.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
    }

    [Fact]
    public async Task AttachAsync_OutboxMessagesCommittedOnAnotherNode_WakeTheAttachedEngine()
    {
        var node = await OpenAsync();
        var other = await OpenAsync();
        var wakeUps = Channel.CreateUnbounded<bool>();
        DisposeAfterTest(await node.AttachAsync("node", () => wakeUps.Writer.TryWrite(true), Ct));

        // Created already claimed: no wake-up, since no other node should take the run.
        var runId = RunId.New();
        var created = await other.CreateRunAsync(NewRun("order-4") with { Id = runId, ClaimFor = new NewRunClaim("other", TimeSpan.FromMinutes(5)) }, Ct);
        var lease = created.Lease!;
        var message = new OutboxMessage(StoreRules.OutboxMessageId(runId, 1, 0), runId, 1, 0, "orders", new byte[] { 1 });
        await other.SaveCheckpointAsync(lease, new Checkpoint(1, FlowPath.Of(1), "saved", null, new byte[] { 2 }, "c") { Outbox = [message] }, 1, Ct);
        await wakeUps.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        while (wakeUps.Reader.TryRead(out _))
        {
        }

        await other.CompleteRunAsync(lease, new byte[] { 3 }, "done", [message with { Id = StoreRules.OutboxMessageId(runId, 2, 0), CheckpointSequence = 2 }], Ct);
        await wakeUps.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(2, (await node.ListOutboxAsync(new OutboxQuery { RunId = runId }, Ct)).Count);
    }

    [Fact]
    public async Task SubscribeToWakeUpsAsync_ListeningConnectionKilled_ListensAgainOnlyOnceTheStoresClockPassesTheDelay()
    {
        var time = new WatchedTimeProvider();
        var node = await OpenAsync(time);
        var other = await OpenAsync();
        var wakeUps = Channel.CreateUnbounded<bool>();
        var subscription = Assert.IsType<PostgresWakeUpListener>(await node.SubscribeToWakeUpsAsync(() => wakeUps.Writer.TryWrite(true), Ct));
        DisposeAfterTest(subscription);
        var killed = subscription.ProcessId;
        Assert.NotEqual(0, killed);

        Assert.True(await TerminateAsync(killed));

        // The listener waits out its first delay on the store's clock, which stands still: nobody listens meanwhile.
        // Then it wakes its subscriber once it is back, since notifications sent meanwhile were lost.
        await time.WaitForTimerAsync(PostgresDedicatedConnection.FirstDelay, Timeout);
        Assert.Equal(0, subscription.ProcessId);
        Assert.Equal(0L, await Cluster.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %{Schema}%'"));
        Assert.False(wakeUps.Reader.TryRead(out _));

        time.Advance(PostgresDedicatedConnection.FirstDelay);
        await wakeUps.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.NotEqual(0, subscription.ProcessId);
        Assert.NotEqual(killed, subscription.ProcessId);
        await other.CreateRunAsync(NewRun("order-5"), Ct);
        await wakeUps.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
    }

    [Fact]
    public async Task SubscribeToWakeUpsAsync_StoresClockPassesTheCheckInterval_QueriesTheListeningConnection()
    {
        var time = new WatchedTimeProvider();
        var node = await OpenAsync(time);
        var subscription = Assert.IsType<PostgresWakeUpListener>(await node.SubscribeToWakeUpsAsync(() => { }, Ct));
        DisposeAfterTest(subscription);
        var listening = subscription.ProcessId;

        // A network gone silently never fails the wait: a query does, once the interval has passed on the store's clock.
        await time.WaitForTimerAsync(PostgresDedicatedConnection.CheckInterval, Timeout);
        Assert.StartsWith("LISTEN ", await LastQueryAsync(listening), StringComparison.Ordinal);
        time.Advance(PostgresDedicatedConnection.CheckInterval);
        await Waits.UntilAsync(async () => await LastQueryAsync(listening) == "SELECT 1", Timeout, "the listener to query its connection");

        await time.WaitForTimerAsync(PostgresDedicatedConnection.CheckInterval, Timeout);
        Assert.Equal(listening, subscription.ProcessId);
    }

    [Fact]
    public async Task StartRunAsync_OtherEngineWithLongPollInterval_PicksTheRunUpPromptly()
    {
        var flow = Flow.Create<int>("wake-flow")
            .Stage("double", (context, _) =>
            {
                context.State *= 2;
                return Task.CompletedTask;
            })
            .Build();
        var blockerStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseBlocker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocker = Flow.Create<int>("blocker")
            .Stage("block", async (_, cancellationToken) =>
            {
                blockerStarted.TrySetResult();
                await releaseBlocker.Task.WaitAsync(cancellationToken);
            })
            .Build();

        // Engine A keeps its only slot busy, so the run it creates can only be executed by engine B, which polls once a
        // minute: only a wake-up gets the run done within the timeout.
        var engineA = Engine(o => o.MaxConcurrentRuns = 1);
        var engineB = Engine(o => o.PollInterval = TimeSpan.FromMinutes(1), flow);
        await engineB.StartAsync();
        await engineA.StartRunAsync(blocker, 0);
        await blockerStarted.Task.WaitAsync(Timeout);

        var run = await engineA.StartRunAsync(flow, 21);
        var outcome = await engineB.WaitForRunAsync(flow, run.Id).WaitAsync(Timeout);

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(42, outcome.Result);
        Assert.Equal(engineB.NodeName, (await engineB.Store.GetRunAsync(run.Id, Ct))!.Owner);
        releaseBlocker.TrySetResult();
    }

    private CairnEngine Engine(Action<CairnOptions> configure, params Flow<int>[] flows)
    {
        var builder = CairnEngine.CreateBuilder()
            .UsePostgres(Cluster.ConnectionString, options => options.Schema = Schema)
            .Configure(configure);
        foreach (var flow in flows)
        {
            builder.AddFlow(flow);
        }

        var engine = builder.Build();
        DisposeAfterTest(engine);
        return engine;
    }

    private Task<string> LastQueryAsync(int processId) =>
        Cluster.ScalarAsync<string>("SELECT query FROM pg_stat_activity WHERE pid = @pid", ("pid", processId));

    private static NewRun NewRun(string recoveryId) => new(RunId.New(), "orders", 1, recoveryId, new byte[] { 1 }, "c", "{}");
}
