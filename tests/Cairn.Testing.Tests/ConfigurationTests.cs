using Cairn.Storage;

namespace Cairn.Testing.Tests;

/// <summary>The engine configuration the test gives the kit: its own store instance and flows, and its options.</summary>
public sealed class ConfigurationTests
{
    private readonly TestFlows _flows = new();

    [Fact]
    public async Task RunWithCrashAsync_UsersOwnInMemoryStoreAndOptions_KeepsTheStoreAcrossTheCrash()
    {
        var store = new InMemoryRunStore();
        var other = _flows.Mailer();
        var kit = new CrashKit(b => b.UseStore(store).AddFlow(other).Configure(o => o.NodeName = "test-node"));

        var result = await kit.RunWithCrashAsync(_flows.Purchase(), new Order(), CrashAt.RecoveryPoint("charged"));

        Assert.True(result.Outcome.IsCompleted, result.Outcome.Error);
        var run = await store.GetRunAsync(result.Outcome.RunId, CancellationToken.None);
        Assert.Equal(RunStatus.Completed, run!.Status);
        Assert.Equal(2, run.Attempt);
        Assert.Equal("test-node", run.Owner);
    }

    [Fact]
    public async Task RunWithCrashAsync_UseInMemoryStore_TheResumingEngineKeepsTheCrashedEnginesMemory()
    {
        var kit = new CrashKit(b => b.UseInMemoryStore());

        var result = await kit.RunWithCrashAsync(_flows.Purchase(), new Order(), CrashAt.RecoveryPoint("charged"));

        Assert.True(result.Outcome.IsCompleted, result.Outcome.Error);
        Assert.Equal(["reserve", "charge", "notify"], result.Journal.Select(e => e.Stage));
        Assert.Equal([1, 1, 2], result.Journal.Select(e => e.Attempt));
    }

    [Fact]
    public async Task RunWithCrashAsync_Crash_TheCrashedAttemptWritesNothingMore()
    {
        var store = new InMemoryRunStore();
        var kit = new CrashKit(b => b.UseStore(store));

        var result = await kit.RunWithCrashAsync(_flows.Purchase(), new Order(), CrashAt.Stage("charge"));

        // Attempt 1 passed "reserved" and died: no interruption, failure or retry of its own, and no checkpoint after it;
        // the next engine found it still running (Interrupted, worded by the store) and resumed it.
        var events = await store.GetEventsAsync(result.Outcome.RunId, CancellationToken.None);
        Assert.Equal(
            [RunEventKind.Created, RunEventKind.Started, RunEventKind.RecoveryPointPassed, RunEventKind.Interrupted, RunEventKind.Started,
                RunEventKind.RecoveryPointPassed, RunEventKind.Completed],
            events.Select(e => e.Kind));
        Assert.Equal(StoreRules.InterruptedMessage("crash-kit"), events[3].Message);
    }
}
