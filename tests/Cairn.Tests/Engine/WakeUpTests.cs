using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Engine;

public sealed class WakeUpTests(ITestOutputHelper output) : EngineTest(output)
{
    [Fact]
    public async Task StartAsync_StoreWithWakeUps_RunCreatedElsewhereIsClaimedOnWakeUp()
    {
        var flow = Flow.Create<TestState>("woken")
            .Stage("work", (context, _) =>
            {
                context.State.Value = 42;
                return Task.CompletedTask;
            })
            .Build();
        var store = new WakeUpRunStore(Store);
        var engine = CairnEngine.CreateBuilder()
            .UseStore(store)
            .UseTimeProvider(Time)
            .UseLoggerFactory(new TestLoggerFactory(Output))
            .Configure(o => o.RetentionPeriod = null)
            .AddFlow(flow)
            .Build();
        await using var disposeEngine = engine;
        await engine.StartAsync();
        Assert.Equal(1, store.ActiveSubscriptions);
        await Within(store.FirstClaim);

        // Another process creates the run; the fake clock never advances, so the engine cannot find it by polling.
        var input = new CairnOptions().Serializer.Serialize(new TestState());
        var id = RunId.New();
        await Store.CreateRunAsync(
            new NewRun(id, flow.Name, flow.Version, "elsewhere", input, Checksum.Compute(input), new RunSettings(RetryPolicy.Default).ToJson()), Ct);
        store.WakeUp();
        var outcome = await Within(engine.WaitForRunAsync(flow, id));

        Assert.True(outcome.IsCompleted);
        Assert.Equal(42, outcome.Result!.Value);
        await engine.StopAsync();
        Assert.Equal(0, store.ActiveSubscriptions);
        Assert.Equal(1, store.Subscriptions);
    }

    [Fact]
    public async Task AttachAsync_DefaultStore_HoldsNeitherLockNorWakeUps()
    {
        await using var attachment = await Store.AttachAsync("node", () => { }, Ct);
        Assert.False(attachment.HoldsWorkerLock);
        Assert.False(attachment.HasWakeUps);
    }
}
