using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Execution;

public sealed class FlowChangedTests(ITestOutputHelper output) : EngineTest(output)
{
    [Fact]
    public async Task Resume_RecoveryPointRemovedInNewVersion_FailsWithFlowChangedAndKeepsCheckpoint()
    {
        var v1 = Flow.Create<TestState>("changing")
            .Stage("load", Counter.Step("load"))
            .RecoveryPoint("a", "loaded")
            .Stage("write", (_, _) => throw new InvalidOperationException("the target is down"))
            .Retry(RetryPolicy.None)
            .Build();
        var failed = await RunToFailureAsync(v1, new TestState());

        var v2 = Flow.Create<TestState>("changing", version: 2)
            .Stage("load", Counter.Step("load"))
            .RecoveryPoint("renamed")
            .Stage("write", Counter.Step("write"))
            .Build();
        var outcome = await RerunOnAsync(v2, failed.RunId);

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.StartsWith("while restoring its state: FlowChangedException: ", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("recovery point 'a' no longer exists in changing v2", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("the run started on v1", outcome.Error, StringComparison.Ordinal);
        Assert.Equal(1, Counter["load"]);
        Assert.Equal(0, Counter["write"]);
        var run = await GetRunAsync(failed.RunId);
        Assert.Equal(2, run.Attempt);
        Assert.Equal(0, run.RetriesUsed);
        var data = await Store.GetRecoveryDataAsync(failed.RunId, Ct);
        Assert.NotNull(data.Checkpoint);
        Assert.Equal("a", data.Checkpoint.RecoveryPoint);
        Assert.Equal("loaded", data.Checkpoint.StatusMessage);
    }

    [Fact]
    public async Task Resume_StageInsertedBeforeRecoveryPoint_FindsPointByName()
    {
        var v1 = Flow.Create<TestState>("growing")
            .Stage("load", Counter.Step("load"))
            .RecoveryPoint("a")
            .Stage("write", (_, _) => throw new InvalidOperationException("the target is down"))
            .Retry(RetryPolicy.None)
            .Build();
        var failed = await RunToFailureAsync(v1, new TestState());

        var v2 = Flow.Create<TestState>("growing", version: 2)
            .Stage("validate", Counter.Step("validate"))
            .Stage("load", Counter.Step("load"))
            .RecoveryPoint("a")
            .Stage("write", Counter.Step("write"))
            .Build();
        var outcome = await RerunOnAsync(v2, failed.RunId);

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["load", "write"], outcome.Result!.Trace);
        Assert.Equal(0, Counter["validate"]);
        Assert.Equal(1, Counter["load"]);
        Assert.Equal(1, Counter["write"]);
    }

    [Fact]
    public async Task Resume_CheckpointCorrupted_FailsWithClearReasonAndEngineKeepsRunning()
    {
        var flow = Flow.Create<TestState>("corrupt")
            .Stage("load", Counter.Step("load"))
            .RecoveryPoint("a")
            .Stage("write", async (context, _) =>
            {
                if (Counter.Hit("write") == 1)
                {
                    // The in-memory store hands out its own array; damage it the way a bad disk would, before the retry resumes from it.
                    var stored = (await Store.GetRecoveryDataAsync(context.RunId, Ct)).Checkpoint!.State;
                    System.Runtime.InteropServices.MemoryMarshal.AsMemory(stored).Span[2] ^= 0xFF;
                    throw new InvalidOperationException("the target is down");
                }

                context.State.Trace.Add("write");
            })
            .Retry(new RetryPolicy { MaxRetries = 3, Interval = TimeSpan.FromSeconds(1) })
            .Build();
        var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(1));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));
        var other = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Equal(1, (await GetRunAsync(run.Id)).RetriesUsed);
        Assert.Contains("CheckpointCorruptedException", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("at recovery point 'a'", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("its checksum does not match its data", outcome.Error, StringComparison.Ordinal);
        Assert.True(other.IsCompleted, other.Error);
        Assert.Equal(2, Counter["write"]);
    }
    [Fact]
    public async Task Resume_StageInsertedInsideLoopBody_ContinuesTheSameIteration()
    {
        var v1 = Flow.Create<TestState>("loop-growing")
            .Stage("start", (context, _) =>
            {
                context.State.Trace = ["x", "y", "z"];
                return Task.CompletedTask;
            })
            .ForEach("each", s => s.Trace, body => body
                .Stage("load", CountOnly("load-v1"))
                .RecoveryPoint("loaded")
                .Stage("write", (context, _) => context.Iteration == 1 ? throw new InvalidOperationException("the target is down") : Task.CompletedTask))
            .Retry(RetryPolicy.None)
            .Build();
        var failed = await RunToFailureAsync(v1, new TestState());

        var written = new List<int>();
        var v2 = Flow.Create<TestState>("loop-growing", version: 2)
            .Stage("start", Counter.Step("start-v2"))
            .Stage("inserted", Counter.Step("inserted"))
            .ForEach("each", s => s.Trace, body => body
                .Stage("check", CountOnly("check"))
                .Stage("load", CountOnly("load-v2"))
                .RecoveryPoint("loaded")
                .Stage("write", (context, _) =>
                {
                    written.Add(context.Iteration!.Value);
                    return Task.CompletedTask;
                }))
            .Build();
        var outcome = await RerunOnAsync(v2, failed.RunId);

        // Resumed after 'loaded' in iteration 1, now at 3/1/2: iteration 1 writes, iteration 2 runs whole, 0 never again.
        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal([1, 2], written);
        Assert.Equal(0, Counter["start-v2"]);
        Assert.Equal(0, Counter["inserted"]);
        Assert.Equal(1, Counter["check"]);
        Assert.Equal(1, Counter["load-v2"]);
    }

    [Fact]
    public async Task Resume_RecoveryPointMovedOutOfLoop_FailsNamingTheChange()
    {
        var v1 = Flow.Create<TestState>("loop-moved")
            .Stage("start", (context, _) =>
            {
                context.State.Trace = ["x", "y"];
                return Task.CompletedTask;
            })
            .ForEach("each", s => s.Trace, body => body
                .Stage("load", CountOnly("load"))
                .RecoveryPoint("loaded")
                .Stage("write", (_, _) => throw new InvalidOperationException("the target is down")))
            .Retry(RetryPolicy.None)
            .Build();
        var failed = await RunToFailureAsync(v1, new TestState());

        var v2 = Flow.Create<TestState>("loop-moved", version: 2)
            .Stage("start", Counter.Step("start"))
            .RecoveryPoint("loaded")
            .ForEach("each", s => s.Trace, body => body.Stage("load", CountOnly("load")).Stage("write", CountOnly("write")))
            .Build();
        var outcome = await RerunOnAsync(v2, failed.RunId);

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("recovery point 'loaded' was inside 1 loop(s) or branch(es) at its checkpoint and is inside 0 now", outcome.Error, StringComparison.Ordinal);
        Assert.Equal(0, Counter["write"]);
        Assert.Equal("loaded", (await Store.GetRecoveryDataAsync(failed.RunId, Ct)).Checkpoint?.RecoveryPoint);
    }

    /// <summary>A stage that counts itself without touching the state (the loops here iterate over the trace).</summary>
    private Func<StageContext<TestState>, CancellationToken, Task> CountOnly(string name) => (_, _) =>
    {
        Counter.Hit(name);
        return Task.CompletedTask;
    };
}
