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
    public async Task ClaimLoop_MoreDueRunsThanAClaimTakes_ClaimsThemInBatchesOfAtMost64()
    {
        var flow = Flow.Create<TestState>("backlog").Stage("work", (context, _) =>
        {
            context.State.Value = 1;
            return Task.CompletedTask;
        }).Build();
        var input = new CairnOptions().Serializer.Serialize(new TestState());
        var ids = new List<RunId>();
        for (var i = 0; i < 150; i++)
        {
            var id = RunId.New();
            ids.Add(id);
            await Store.CreateRunAsync(
                new NewRun(id, flow.Name, flow.Version, $"backlog-{i}", input, Checksum.Compute(input), new RunSettings(RetryPolicy.Default).ToJson()), Ct);
        }

        // 200 free slots, 150 due runs: the first ones claimed can finish while the next are claimed.
        var store = new WakeUpRunStore(Store);
        var engine = CairnEngine.CreateBuilder()
            .UseStore(store)
            .UseTimeProvider(Time)
            .UseLoggerFactory(new TestLoggerFactory(Output))
            .Configure(o => (o.RetentionPeriod, o.MaxConcurrentRuns) = (null, 200))
            .AddFlow(flow)
            .Build();
        await using var disposeEngine = engine;
        await engine.StartAsync();
        foreach (var id in ids)
        {
            Assert.True((await Within(engine.WaitForRunAsync(flow, id))).IsCompleted);
        }

        List<(int Asked, int Got)> claims;
        lock (store.Claims)
        {
            claims = [.. store.Claims];
        }

        Assert.All(claims, claim => Assert.InRange(claim.Asked, 1, CairnEngine.MaxClaimBatch));
        Assert.Equal(150, claims.Sum(claim => claim.Got));
        Assert.True(claims.Count(claim => claim.Got > 0) >= 3, string.Join(", ", claims));
        Assert.Equal(CairnEngine.MaxClaimBatch, claims[0].Got);
    }

    [Fact]
    public async Task AttachAsync_DefaultStore_HoldsNeitherLockNorWakeUps()
    {
        await using var attachment = await Store.AttachAsync("node", () => { }, Ct);
        Assert.False(attachment.HoldsWorkerLock);
        Assert.False(attachment.HasWakeUps);
    }
}
