using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Execution;

/// <summary>Runs record their flow's version and structure; versions side by side; states upgraded from older versions.</summary>
public sealed class FlowVersionTests(ITestOutputHelper output) : EngineTest(output)
{
    [Fact]
    public async Task StartRunAsync_RecordsVersionAndFingerprintOfTheStructure()
    {
        var flow = Flow.Create<TestState>("fingerprinted", version: 3).Stage("a", Counter.Step("a")).RecoveryPoint("p").Stage("b", Counter.Step("b")).Build();
        var same = Flow.Create<TestState>("fingerprinted", version: 4).Stage("a", Counter.Step("a")).RecoveryPoint("p").Stage("b", Counter.Step("b")).Build();
        var moved = Flow.Create<TestState>("fingerprinted", version: 5).Stage("a", Counter.Step("a")).Stage("b", Counter.Step("b")).RecoveryPoint("p").Stage("c", Counter.Step("c")).Build();
        var looped = Flow.Create<TestState>("fingerprinted", version: 6)
            .ForEach("each", s => s.Trace, body => body.Stage("a", Counter.Step("a")).RecoveryPoint("p")).Stage("b", Counter.Step("b")).Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());

        Assert.Equal(3, run.FlowVersion);
        Assert.Equal(flow.Fingerprint, JsonNode.Parse((await GetRunAsync(run.Id)).Settings)!["fingerprint"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{16}$", flow.Fingerprint);
        Assert.Equal(flow.Fingerprint, same.Fingerprint);
        Assert.NotEqual(flow.Fingerprint, moved.Fingerprint);
        Assert.NotEqual(flow.Fingerprint, looped.Fingerprint);
    }

    [Fact]
    public async Task VersionsSideBySide_OldRunFinishesOnItsOwnVersionAndNewRunsUseTheNewOne()
    {
        var failures = 0;
        var v1 = Flow.Create<TestState>("orders", version: 1)
            .Retry(RetryPolicy.Default with { Interval = TimeSpan.FromSeconds(10) })
            .Stage("read", Counter.Step("read-v1"))
            .RecoveryPoint("read-done")
            .Stage("write", (context, _) =>
            {
                Counter.Hit("write-v1");
                return failures++ == 0 ? throw new InvalidOperationException("the target is down") : Task.CompletedTask;
            })
            .Build();
        var v2 = Flow.Create<TestState>("orders", version: 2)
            .Stage("read", Counter.Step("read-v2"))
            .RecoveryPoint("read-done")
            .Stage("check", Counter.Step("check-v2"))
            .Stage("write", Counter.Step("write-v2"))
            .Build();
        var engine = CreateEngine(v1);
        var old = await engine.StartRunAsync(v1, new TestState());
        await WaitForStatusAsync(engine, old.Id, RunStatus.WaitingForRetry);

        var fresh = await Within(engine.RunAsync(v2, new TestState()));
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var resumed = await Within(engine.WaitForRunAsync(v1, old.Id));

        Assert.True(fresh.IsCompleted, fresh.Error);
        Assert.Equal(["read-v2", "check-v2", "write-v2"], fresh.Result!.Trace);
        Assert.True(resumed.IsCompleted, resumed.Error);
        Assert.Equal(2, Counter["write-v1"]);
        Assert.Equal(1, Counter["read-v1"]);
        Assert.Equal(1, Counter["check-v2"]);
        Assert.Equal([v1, v2], engine.Flows.OrderBy(f => f.Version));
    }

    [Fact]
    public async Task UpgradeState_OlderRunResumesOnTheNewVersionWithItsStateConverted()
    {
        var v1 = Flow.Create<TestState>("upgrade", version: 1)
            .Stage("read", (context, _) =>
            {
                context.State.Value = 42;
                return Task.CompletedTask;
            })
            .RecoveryPoint("read-done")
            .Stage("write", (_, _) => throw new InvalidOperationException("the target is down"))
            .Retry(RetryPolicy.None)
            .Build();
        var failed = await RunToFailureAsync(v1, new TestState());

        var seen = new List<int>();
        var v2 = Flow.Create<RenamedState>("upgrade", version: 2)
            .Stage("read", (_, _) => throw new InvalidOperationException("must not run again"))
            .RecoveryPoint("read-done")
            .Stage("write", (context, _) =>
            {
                context.State.Amount++;
                return Task.CompletedTask;
            })
            .UpgradeState((version, bytes) =>
            {
                seen.Add(version);
                var old = JsonNode.Parse(bytes.Span)!;
                return new RenamedState { Amount = old["Value"]!.GetValue<int>() };
            })
            .Build();
        var outcome = await RerunOnAsync(v2, failed.RunId);

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(43, outcome.Result!.Amount);
        Assert.Equal([1], seen);
    }

    [Fact]
    public async Task Resume_OlderStateThatNoLongerReadsWithoutHook_FailsNamingBothVersions()
    {
        var v1 = Flow.Create<TestState>("no-hook", version: 1)
            .Stage("read", (context, _) =>
            {
                context.State.Payload = "not a number";
                return Task.CompletedTask;
            })
            .RecoveryPoint("read-done")
            .Stage("write", (_, _) => throw new InvalidOperationException("the target is down"))
            .Retry(RetryPolicy.None)
            .Build();
        var failed = await RunToFailureAsync(v1, new TestState());

        var v2 = Flow.Create<StrictState>("no-hook", version: 2)
            .Stage("read", (_, _) => Task.CompletedTask)
            .RecoveryPoint("read-done")
            .Stage("write", (_, _) => Task.CompletedTask)
            .Build();
        var outcome = await RerunOnAsync(v2, failed.RunId);

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("can no longer be read as StrictState", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("the run started on v1; give no-hook v2 an UpgradeState hook", outcome.Error, StringComparison.Ordinal);
        Assert.Equal("read-done", (await Store.GetRecoveryDataAsync(failed.RunId, Ct)).Checkpoint?.RecoveryPoint);
    }

    [Fact]
    public async Task Claim_RunOfANewerVersionThanTheEngineKnows_IsPutBackWithoutUsingARetry()
    {
        var v2 = Flow.Create<TestState>("rolling", version: 2).Stage("a", Counter.Step("a-v2")).Build();
        var v1 = Flow.Create<TestState>("rolling", version: 1).Stage("a", Counter.Step("a-v1")).Build();
        var input = JsonSerializer.SerializeToUtf8Bytes(new TestState());
        var id = RunId.New();
        await Store.CreateRunAsync(
            new Cairn.Storage.NewRun(id, "rolling", 2, "newer", input, Checksum.Compute(input), new RunSettings(RetryPolicy.Default, v2.Fingerprint).ToJson()), Ct);
        var engine = CreateEngine(v1);
        await engine.StartAsync();

        var waiting = await WaitForStatusAsync(engine, id, RunStatus.WaitingForRetry);

        Assert.Equal(0, waiting.RetriesUsed);
        Assert.Equal(0, Counter["a-v1"]);
        Assert.Contains("the run is rolling v2 and this node knows it up to v1", (await GetEventsAsync(id))[^1].Message, StringComparison.Ordinal);
    }
}

/// <summary>A later version's state: a field renamed and retyped.</summary>
public sealed class RenamedState
{
    public int Amount { get; set; }
}

/// <summary>A later version's state that an older one's JSON no longer reads into.</summary>
public sealed class StrictState
{
    public int Payload { get; set; }
}
