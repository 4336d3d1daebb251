using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Execution;

/// <summary>Recovery points inside loops and branches: a resumed run continues the interrupted iteration and path.</summary>
public sealed class LoopAndBranchTests(ITestOutputHelper output) : EngineTest(output)
{
    private static readonly RetryPolicy TenSeconds = RetryPolicy.Default with { Interval = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task ForEach_FailureInIteration_ResumesThatIterationAndNeverRepeatsCompletedOnes()
    {
        var failures = 0;
        var flow = Flow.Create<LoopState>("orders")
            .Retry(TenSeconds)
            .Stage("read", (context, _) =>
            {
                context.State.Orders = [.. Enumerable.Range(100, 8)];
                return Task.CompletedTask;
            })
            .RecoveryPoint("read-done")
            .ForEach("each-order", s => s.Orders, body => body
                .Stage("load", (context, _) =>
                {
                    var order = context.Item<int>();
                    Counter.Hit($"load-{order}");
                    context.State.Loaded.Add(order);
                    return Task.CompletedTask;
                })
                .RecoveryPoint("loaded")
                .Stage("confirm", (context, _) =>
                {
                    var order = context.Item<int>();
                    Counter.Hit($"confirm-{order}");
                    if (order == 105 && failures++ == 0)
                    {
                        throw new InvalidOperationException("confirmation service down");
                    }

                    context.State.Confirmed.Add(order);
                    return Task.CompletedTask;
                })
                .RecoveryPoint("confirmed"))
            .Stage("summary", Counter.Step<LoopState>("summary"))
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new LoopState());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Assert.Equal("loaded", waiting.LastRecoveryPoint);
        Assert.Equal("2/5/1", waiting.Position);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(Enumerable.Range(100, 8), outcome.Result!.Loaded);
        Assert.Equal(Enumerable.Range(100, 8), outcome.Result.Confirmed);
        foreach (var order in Enumerable.Range(100, 8))
        {
            Assert.Equal(1, Counter[$"load-{order}"]);
            Assert.Equal(order == 105 ? 2 : 1, Counter[$"confirm-{order}"]);
        }

        Assert.Equal(1, Counter["summary"]);
        var resumed = (await GetEventsAsync(run.Id)).Last(e => e.Kind == RunEventKind.Started).Message;
        Assert.Contains("from recovery point 'loaded'", resumed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForEach_TwoThousandIterations_CheckpointDoesNotGrowWithCompletedIterations()
    {
        var sizes = new Dictionary<int, (int State, int Position)>();
        var flow = Flow.Create<LoopState>("many")
            .Stage("read", (context, _) =>
            {
                context.State.Orders = [.. Enumerable.Range(0, 2_000)];
                return Task.CompletedTask;
            })
            .ForEach("each", s => s.Orders, body => body
                .Stage("work", async (context, ct) =>
                {
                    var iteration = context.Iteration!.Value;
                    if (iteration is 11 or 1_999)
                    {
                        // The checkpoint of the previous iteration: #10, and #1,998.
                        var saved = (await Store.GetRecoveryDataAsync(context.RunId, ct)).Checkpoint!;
                        sizes[iteration - 1] = (saved.State.Length, saved.Position.ToString().Length);
                    }

                    context.State.Value++;
                })
                .RecoveryPoint("done"))
            .Stage("end", Counter.Step<LoopState>("end"))
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new LoopState()));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(2_000, outcome.Result!.Value);

        // The state holds the 2,000 order numbers and a counter whose digits grow; nothing else grows. (2,000 and not 10,000
        // iterations: each checkpoint serializes the whole list, and 10,000 of them took over 10 s on a busy machine.)
        var early = sizes[10];
        var late = sizes[1_998];
        Assert.InRange(late.State - early.State, 0, 4);
        Assert.InRange(late.Position - early.Position, 0, 3);
    }

    [Fact]
    public async Task While_And_Until_CheckTheirConditionBeforeAndAfterEachIteration()
    {
        var flow = Flow.Create<LoopState>("pages")
            .Stage("start", Counter.Step<LoopState>("start"))
            .While("while-pages", s => s.Value < 3, body => body
                .Stage("fetch", (context, _) =>
                {
                    context.State.Value++;
                    context.State.Loaded.Add(context.Iteration!.Value);
                    return Task.CompletedTask;
                })
                .RecoveryPoint("fetched"))
            .While("never", s => s.Value < 0, body => body.Stage("not-run", Counter.Step<LoopState>("not-run")))
            .Until("once", s => true, body => body.Stage("at-least-once", Counter.Step<LoopState>("at-least-once")))
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new LoopState()));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal([0, 1, 2], outcome.Result!.Loaded);
        Assert.Equal(0, Counter["not-run"]);
        Assert.Equal(1, Counter["at-least-once"]);
    }

    [Fact]
    public async Task Until_FailureInIteration_FinishesThatIterationBeforeCheckingTheCondition()
    {
        var failures = 0;
        var flow = Flow.Create<LoopState>("drain")
            .Retry(TenSeconds)
            .Stage("start", Counter.Step<LoopState>("start"))
            .Until("drain", s => s.Value >= 4, body => body
                .Stage("take", (context, _) =>
                {
                    context.State.Value++;
                    return Task.CompletedTask;
                })
                .RecoveryPoint("taken")
                .Stage("ack", (context, _) =>
                {
                    Counter.Hit($"ack-{context.Iteration}");
                    return context.Iteration == 3 && failures++ == 0 ? throw new InvalidOperationException("ack lost") : Task.CompletedTask;
                }))
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new LoopState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        // Iteration 3 reached Value 4 and was interrupted before 'ack': resumed, it acks, then the condition ends the loop.
        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(4, outcome.Result!.Value);
        Assert.Equal([1, 1, 1, 2, 0], Enumerable.Range(0, 5).Select(i => Counter[$"ack-{i}"]));
    }

    [Fact]
    public async Task If_ResumedRun_StaysOnThePathItTookEvenIfTheStateNowChoosesAnother()
    {
        var failures = 0;
        var flow = Flow.Create<LoopState>("branch")
            .Retry(TenSeconds)
            .Stage("start", Counter.Step<LoopState>("start"))
            .If(
                "large-order",
                s => s.Value > 10,
                then => then
                    .Stage("approve", (context, _) =>
                    {
                        Counter.Hit("approve");
                        context.State.Value = 0; // The condition would now choose the other path.
                        return Task.CompletedTask;
                    })
                    .RecoveryPoint("approved")
                    .Stage("ship-large", (_, _) =>
                    {
                        Counter.Hit("ship-large");
                        return failures++ == 0 ? throw new InvalidOperationException("carrier down") : Task.CompletedTask;
                    }),
                otherwise => otherwise.Stage("ship-small", Counter.Step<LoopState>("ship-small")))
            .Stage("end", Counter.Step<LoopState>("end"))
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new LoopState { Value = 50 });
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Assert.Equal("1/0/1", waiting.Position);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(1, Counter["approve"]);
        Assert.Equal(2, Counter["ship-large"]);
        Assert.Equal(0, Counter["ship-small"]);
        Assert.Equal(1, Counter["end"]);
    }

    [Theory]
    [InlineData("eu", "eu-tax")]
    [InlineData("us", "us-tax")]
    [InlineData("jp", "no-tax")]
    public async Task Switch_TakesTheMatchingCaseOrTheDefault(string region, string expected)
    {
        var flow = Flow.Create<LoopState>("tax")
            .Switch("by-region", s => s.Region, cases => cases
                .Case("eu", b => b.Stage("eu-tax", Counter.Step<LoopState>("eu-tax")).RecoveryPoint("eu-taxed"))
                .Case("us", b => b.Stage("us-tax", Counter.Step<LoopState>("us-tax")))
                .Default(b => b.Stage("no-tax", Counter.Step<LoopState>("no-tax"))))
            .Stage("end", Counter.Step<LoopState>("end"))
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new LoopState { Region = region }));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal([expected, "end"], outcome.Result!.Trace);
    }

    [Fact]
    public async Task Stage_InsideLoops_HasIterationsItemAndAnIdempotencyKeyPerIteration()
    {
        var keys = new List<string>();
        var flow = Flow.Create<LoopState>("keys")
            .Stage("outside", (context, _) =>
            {
                Assert.Null(context.Iteration);
                Assert.Throws<InvalidOperationException>(() => context.Item<int>());
                keys.Add(context.IdempotencyKey);
                return Task.CompletedTask;
            })
            .ForEach("outer", s => s.Orders, outer => outer
                .While("inner", s => s.Value < 2, inner => inner.Stage("work", (context, _) =>
                {
                    keys.Add($"{context.IdempotencyKey} item {context.Item<int>()} iterations {string.Join(',', context.Iterations)}");
                    context.State.Value++;
                    return Task.CompletedTask;
                }))
                .Stage("reset", (context, _) =>
                {
                    context.State.Value = 0;
                    return Task.CompletedTask;
                }))
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new LoopState { Orders = [7, 8] }));

        Assert.True(outcome.IsCompleted, outcome.Error);
        var id = outcome.RunId;
        Assert.Equal(
            [
                $"{id}:outside",
                $"{id}:work:0:0 item 7 iterations 0,0",
                $"{id}:work:0:1 item 7 iterations 0,1",
                $"{id}:work:1:0 item 8 iterations 1,0",
                $"{id}:work:1:1 item 8 iterations 1,1",
            ],
            keys);
    }

    [Fact]
    public void Build_InvalidLoopsAndBranches_ReportsEveryProblem()
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<LoopState>("bad")
            .Stage("a", Counter.Step<LoopState>("a"))
            .ForEach("empty", s => s.Orders, body => body.RecoveryPoint("lonely"))
            .While("twice", s => false, body => body.Stage("b", Counter.Step<LoopState>("b")).RecoveryPoint("p1").RecoveryPoint("p2"))
            .If("dup", s => true, then => then.Stage("a", Counter.Step<LoopState>("a")))
            .Switch("sw", s => s.Region, cases => cases.Case("x", b => b.Stage("c", Counter.Step<LoopState>("c"))).Case("x", b => b.Stage("d", Counter.Step<LoopState>("d"))))
            .Build());

        Assert.Equal(
            [
                "loop 'empty' has no stage in its body",
                "recovery points 'p1' and 'p2' in loop 'twice' follow each other with no stage between them",
                "the name 'a' is used twice; names of stages, recovery points, loops and branches must be unique in the flow",
                "switch 'sw' has two cases for the value 'x'",
            ],
            error.Problems);
    }

    [Fact]
    public void StageNames_And_RecoveryPointNames_IncludeThoseInsideLoopsAndBranches()
    {
        var flow = Flow.Create<LoopState>("names")
            .Stage("a", Counter.Step<LoopState>("a"))
            .RecoveryPoint("p-a")
            .ForEach("loop", s => s.Orders, body => body.Stage("b", Counter.Step<LoopState>("b")).RecoveryPoint("p-b"))
            .If("if", s => true, then => then.Stage("c", Counter.Step<LoopState>("c")), otherwise => otherwise.Stage("d", Counter.Step<LoopState>("d")).RecoveryPoint("p-d"))
            .Stage("e", Counter.Step<LoopState>("e"))
            .Build();

        Assert.Equal(["a", "b", "c", "d", "e"], flow.StageNames);
        Assert.Equal(["p-a", "p-b", "p-d"], flow.RecoveryPointNames);
    }
}

/// <summary>The state of the loop and branch flows.</summary>
public sealed class LoopState : ITraced
{
    public List<int> Orders { get; set; } = [];

    public List<int> Loaded { get; set; } = [];

    public List<int> Confirmed { get; set; } = [];

    public List<string> Trace { get; set; } = [];

    public int Value { get; set; }

    public string Region { get; set; } = "";
}
