using Cairn.Diagnostics;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Microsoft.Extensions.Logging;

namespace Cairn.Postgres.Tests;

/// <summary>The lock of a node name when its connection is lost: let go meanwhile, taken again once the name is free.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresNodeLockTests(PostgresCluster cluster) : PostgresSchemaTest(cluster, "locks")
{
    private static readonly TimeSpan FirstDelay = PostgresDedicatedConnection.FirstDelay;

    [Fact]
    public async Task AttachAsync_LockConnectionTerminated_TakesTheNameAgainOnceTheStoresClockPassesTheDelay()
    {
        using var logs = new RecordingLoggerFactory();
        var time = new WatchedTimeProvider();
        var (node, other) = await OpenTwoAsync(time, logs);
        var attachment = DisposeAfterTest(await node.AttachAsync("node-a", () => { }, Ct));
        await node.CreateRunAsync(new NewRun(RunId.New(), "orders", 1, "order-1", new byte[] { 1 }, "c", "{}"), Ct);
        var claimed = Assert.Single(await node.ClaimDueRunsAsync(new ClaimRequest("node-a", ["orders"], 1, TimeSpan.FromMinutes(5)), Ct));
        Assert.True(attachment.HoldsWorkerLock);
        var killed = Assert.NotNull(await HolderAsync("node-a"));

        Assert.True(await TerminateAsync(killed));

        // The lock went with its session. The node waits out its first delay on the store's clock, which stands still:
        // meanwhile it does not hold the name, and the name is free.
        await time.WaitForTimerAsync(FirstDelay, Timeout);
        Assert.False(attachment.HoldsWorkerLock);
        Assert.Null(await HolderAsync("node-a"));
        var lost = Assert.Single(logs.Records, r => r.EventId == CairnEventId.PostgresNodeLockConnectionLost);
        Assert.Equal((LogLevel.Warning, "node-a", FirstDelay), (lost.Level, lost.Parameters["Owner"], lost.Parameters["Delay"]));

        time.Advance(FirstDelay);
        await RestoredAsync(logs);
        Assert.True(attachment.HoldsWorkerLock);
        Assert.NotEqual(killed, Assert.NotNull(await HolderAsync("node-a")));
        var restored = Assert.Single(logs.Records, r => r.EventId == CairnEventId.PostgresNodeLockRestored);
        Assert.Equal((LogLevel.Information, "node-a"), (restored.Level, restored.Parameters["Owner"]));
        var error = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await other.AcquireWorkerLockAsync("node-a", Ct));
        Assert.Contains("'node-a' is in use by another live node", error.Message, StringComparison.Ordinal);

        // Held again, the lock hands the name over as before: once released, the next process of the name takes it and
        // resumes the name's runs at once, without waiting for their leases.
        await attachment.DisposeAsync();
        Assert.False(attachment.HoldsWorkerLock);
        DisposeAfterTest((await other.AcquireWorkerLockAsync("node-a", Ct))!);
        Assert.Equal(1, await other.InterruptAbandonedRunsAsync("node-a", exclusive: true, TimeSpan.Zero, Ct));
        Assert.Equal(RunStatus.Interrupted, (await other.GetRunAsync(claimed.Run.Id, Ct))!.Status);
    }

    [Fact]
    public async Task AcquireWorkerLockAsync_NameTakenWhileTheConnectionWasLost_TakesItAgainOnceTheOtherProcessLetsGo()
    {
        using var logs = new RecordingLoggerFactory();
        var time = new WatchedTimeProvider();
        var (node, other) = await OpenTwoAsync(time, logs);
        var held = Assert.IsType<PostgresNodeLock>(DisposeAfterTest((await node.AcquireWorkerLockAsync("node-b", Ct))!));
        Assert.True(await TerminateAsync(Assert.NotNull(await HolderAsync("node-b"))));
        await time.WaitForTimerAsync(FirstDelay, Timeout);

        // Another process takes the name while the node has no connection: the node finds it in use, and tries again later.
        var taken = await other.AcquireWorkerLockAsync("node-b", Ct);
        var taker = await HolderAsync("node-b");
        time.Advance(FirstDelay);
        await time.WaitForTimerAsync(FirstDelay * 2, Timeout);
        var inUse = Assert.Single(logs.Records, r => r.EventId == CairnEventId.PostgresNodeLockInUse);
        Assert.Equal((LogLevel.Warning, "node-b", FirstDelay * 2), (inUse.Level, inUse.Parameters["Owner"], inUse.Parameters["Delay"]));
        Assert.Equal(taker, await HolderAsync("node-b"));
        Assert.False(held.IsHeld);

        await taken!.DisposeAsync();
        time.Advance(FirstDelay * 2);
        await RestoredAsync(logs);
        Assert.True(held.IsHeld);
        Assert.Equal(held.ProcessId, await HolderAsync("node-b"));
        await Assert.ThrowsAsync<StoreUnavailableException>(async () => await other.AcquireWorkerLockAsync("node-b", Ct));
    }

    [Fact]
    public async Task StartAsync_SecondEngineOfTheNameOnceTheLockCameBack_IsRefusedAndLeavesTheRunToItsNode()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;
        var flow = Flow.Create<int>("held")
            .Stage("hold", async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref attempts);
                started.TrySetResult();
                await release.Task.WaitAsync(cancellationToken);
                context.State *= 2;
            })
            .Build();
        CairnEngine Engine() => DisposeAfterTest(CairnEngine.CreateBuilder()
            .UsePostgres(Cluster.ConnectionString, options => options.Schema = Schema)
            .Configure(options => options.NodeName = "node-e")
            .AddFlow(flow)
            .Build());

        var first = Engine();
        var run = await first.StartRunAsync(flow, 21);
        await started.Task.WaitAsync(Timeout);
        var killed = Assert.NotNull(await HolderAsync("node-e"));
        Assert.True(await TerminateAsync(killed));
        await Waits.UntilAsync(async () => await HolderAsync("node-e") is { } holder && holder != killed, Timeout, "the engine to take its name again");

        // A second process under the name is refused: it neither takes the name nor interrupts the run its holder executes.
        await Assert.ThrowsAsync<StoreUnavailableException>(() => Engine().StartAsync());
        var running = await first.Store.GetRunAsync(run.Id, Ct);
        Assert.Equal((RunStatus.Running, 1L), (running!.Status, running.LeaseEpoch));

        release.TrySetResult();
        var outcome = await first.WaitForRunAsync(flow, run.Id).WaitAsync(Timeout);
        Assert.Equal((RunStatus.Completed, 42, 1), (outcome.Status, outcome.Result, attempts));

        // Stopped, the engine releases the name it took again: the next process of the name starts.
        await first.StopAsync();
        Assert.Null(await HolderAsync("node-e"));
        await Engine().StartAsync();
    }

    /// <summary>Opens the store of the node under test, on a fake clock and logging, and another process's.</summary>
    private async Task<(PostgresRunStore Node, PostgresRunStore Other)> OpenTwoAsync(WatchedTimeProvider time, RecordingLoggerFactory logs) =>
        (await OpenAsync(time, logs.CreateLogger("Cairn.Store.Postgres")), await OpenAsync());

    /// <summary>Waits until the store has logged that its lock is held again, which it does once it holds it.</summary>
    private static Task RestoredAsync(RecordingLoggerFactory logs) => Waits.UntilAsync(
        () => Task.FromResult(logs.Records.Any(r => r.EventId == CairnEventId.PostgresNodeLockRestored)), Timeout, "the node to take its name again");

    /// <summary>The server process that holds the lock of a node name, if one does.</summary>
    private Task<int?> HolderAsync(string owner) => Cluster.ScalarAsync<int?>(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted " +
        $"AND ((classid::bigint << 32) | objid::bigint) = {PostgresNodeLock.Key(Schema, owner)}");
}
