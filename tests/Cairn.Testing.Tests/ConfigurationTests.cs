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
}
