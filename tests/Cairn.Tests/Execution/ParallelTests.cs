using System.Collections.Concurrent;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Execution;

/// <summary>Parallel branches with their own slices and recovery points; after a failure each resumes from its own point.</summary>
public sealed class ParallelTests(ITestOutputHelper output) : EngineTest(output)
{
    private static readonly RetryPolicy TenSeconds = RetryPolicy.Default with { Interval = TimeSpan.FromSeconds(10) };

    private readonly ConcurrentQueue<string> _ran = new();

    [Fact]
    public async Task Parallel_OneBranchFailsAfterOthersFinished_RetryResumesItFromItsOwnPointAndNeverRerunsFinishedOnes()
    {
        var failures = 0;
        var flow = Flow.Create<Reconciliation>("reconcile")
            .Retry(TenSeconds)
            .Stage("start", (context, _) =>
            {
                context.State.Account = "acc-1";
                return Task.CompletedTask;
            })
            .Parallel<Side>(
                "fetch",
                p => p
                    .Branch("ledger", s => new Side { Account = s.Account }, b => b
                        .Stage("ledger-read", Record("ledger-read", 100))
                        .RecoveryPoint("ledger-read-done")
                        .Stage("ledger-sum", Record("ledger-sum", 1)))
                    .Branch("bank", s => new Side { Account = s.Account }, b => b
                        .Stage("bank-read", Record("bank-read", 200))
                        .RecoveryPoint("bank-read-done")
                        .Stage("bank-sum", async (context, ct) =>
                        {
                            _ran.Enqueue("bank-sum");
                            if (failures++ == 0)
                            {
                                throw new InvalidOperationException("bank API timed out");
                            }

                            context.State.Total += 2;
                            await Task.CompletedTask;
                        })),
                (state, slices) => state.Difference = slices["bank"].Total - slices["ledger"].Total,
                ParallelFailure.FinishOthers)
            .RecoveryPoint("reconciled")
            .Stage("report", Record<Reconciliation>("report"))
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new Reconciliation());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Assert.Contains("in stage 'bank-sum' in branch 'bank' of parallel 'fetch'", waiting.LastError, StringComparison.Ordinal);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(202 - 101, outcome.Result!.Difference);
        Assert.Equal(1, _ran.Count(s => s == "ledger-read"));
        Assert.Equal(1, _ran.Count(s => s == "ledger-sum"));
        Assert.Equal(1, _ran.Count(s => s == "bank-read"));
        Assert.Equal(2, _ran.Count(s => s == "bank-sum"));
        Assert.Equal(1, _ran.Count(s => s == "report"));
    }

    [Fact]
    public async Task Parallel_FailureAfterABranchRecoveryPoint_ResumesAfterThatPoint()
    {
        var failures = 0;
        var flow = Flow.Create<Reconciliation>("branch-point")
            .Retry(TenSeconds)
            .Stage("start", Record<Reconciliation>("start"))
            .Parallel<Side>(
                "only",
                p => p.Branch("one", s => new Side(), b => b
                    .Stage("before", Record("before", 5))
                    .RecoveryPoint("one-point", "half way")
                    .Stage("after", (context, _) =>
                    {
                        _ran.Enqueue("after");
                        context.State.Total++;
                        return failures++ == 0 ? throw new InvalidOperationException("later") : Task.CompletedTask;
                    })),
                (state, slices) => state.Difference = slices["one"].Total)
            .Stage("end", Record<Reconciliation>("end"))
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new Reconciliation());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Assert.Equal("one-point", waiting.LastRecoveryPoint);
        Assert.Equal("1/-1", waiting.Position);
        Assert.Equal("half way", waiting.StatusMessage);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(6, outcome.Result!.Difference);
        Assert.Equal(1, _ran.Count(s => s == "before"));
        Assert.Equal(2, _ran.Count(s => s == "after"));
        Assert.Equal(1, _ran.Count(s => s == "start"));
    }

    [Fact]
    public async Task Parallel_CancelOthers_CancelsTheRunningBranchesWhenOneFails()
    {
        var cancelled = NewGate();
        var waiting = NewGate();
        var flow = Flow.Create<Reconciliation>("cancel")
            .Retry(RetryPolicy.None)
            .Stage("start", Record<Reconciliation>("start"))
            .Parallel<Side>(
                "fetch",
                p => p
                    .Branch("slow", s => new Side(), b => b.Stage("wait", async (_, ct) =>
                    {
                        waiting.TrySetResult();
                        try
                        {
                            await Task.Delay(System.Threading.Timeout.Infinite, ct);
                        }
                        catch (OperationCanceledException)
                        {
                            cancelled.TrySetResult();
                            throw;
                        }
                    }))
                    .Branch("failing", s => new Side(), b => b.Stage("fail", async (_, _) =>
                    {
                        await waiting.Task;
                        throw new InvalidOperationException("broken");
                    })),
                (_, _) => { })
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new Reconciliation()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("in stage 'fail' in branch 'failing' of parallel 'fetch': InvalidOperationException: broken", outcome.Error, StringComparison.Ordinal);
        await Within(cancelled.Task);
    }

    [Fact]
    public async Task ForEachParallel_FailedItemResumesAloneAndTheMergeSeesEveryItemInOrder()
    {
        var failures = 0;
        var maxConcurrent = 0;
        var concurrent = 0;
        var flow = Flow.Create<Reconciliation>("fan-out")
            .Retry(TenSeconds)
            .Stage("start", (context, _) =>
            {
                context.State.Accounts = [.. Enumerable.Range(1, 10).Select(i => $"acc-{i}")];
                return Task.CompletedTask;
            })
            .ForEachParallel<string, Side>(
                "per-account",
                s => s.Accounts,
                (s, account) => new Side { Account = account },
                b => b
                    .Stage("fetch", async (context, _) =>
                    {
                        var now = Interlocked.Increment(ref concurrent);
                        InterlockedMax(ref maxConcurrent, now);
                        await Task.Yield();
                        _ran.Enqueue($"fetch-{context.Item<string>()}");
                        context.State.Total = context.Iteration!.Value * 10;
                        Interlocked.Decrement(ref concurrent);
                    })
                    .RecoveryPoint("fetched")
                    .Stage("check", (context, _) =>
                    {
                        _ran.Enqueue($"check-{context.State.Account}");
                        return context.State.Account == "acc-7" && Interlocked.Increment(ref failures) == 1
                            ? throw new InvalidOperationException("check failed")
                            : Task.CompletedTask;
                    }),
                (state, slices) => state.Totals = [.. slices.Select(s => s.Total)],
                maxConcurrency: 3,
                onFailure: ParallelFailure.FinishOthers)
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new Reconciliation());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * 10), outcome.Result!.Totals);
        Assert.InRange(maxConcurrent, 1, 3);
        foreach (var account in Enumerable.Range(1, 10).Select(i => $"acc-{i}"))
        {
            Assert.Equal(1, _ran.Count(s => s == $"fetch-{account}"));
            Assert.Equal(account == "acc-7" ? 2 : 1, _ran.Count(s => s == $"check-{account}"));
        }
    }

    [Fact]
    public async Task Parallel_InsideLoop_EachIterationRunsItsOwnBranches()
    {
        var flow = Flow.Create<Reconciliation>("loop-parallel")
            .Stage("start", (context, _) =>
            {
                context.State.Accounts = ["a", "b", "c"];
                return Task.CompletedTask;
            })
            .ForEach("each", s => s.Accounts, body => body
                .Parallel<Side>(
                    "both",
                    p => p
                        .Branch("x", s => new Side { Total = 1 }, b => b.Stage("x-work", (c, _) => Inc(c)).RecoveryPoint("x-done").Stage("x-more", (c, _) => Inc(c)))
                        .Branch("y", s => new Side { Total = 10 }, b => b.Stage("y-work", (c, _) => Inc(c))),
                    (state, slices) => state.Totals.Add(slices["x"].Total + slices["y"].Total))
                .RecoveryPoint("iteration-done"))
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new Reconciliation()));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal([14, 14, 14], outcome.Result!.Totals);

        static Task Inc(StageContext<Side> context)
        {
            context.State.Total++;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void ImplicitRecovery_AddsPointsInsideLoopsAndParallelBranchesButNotSubFlows()
    {
        var child = Flow.Create<Side>("child").Stage("c1", Record<Side>("c1")).Stage("c2", Record<Side>("c2")).Build();
        var flow = Flow.Create<Reconciliation>("implicit")
            .ImplicitRecovery()
            .Stage("a", Record<Reconciliation>("a"))
            .ForEach("loop", s => s.Accounts, body => body.Stage("l1", Record<Reconciliation>("l1")).Stage("l2", Record<Reconciliation>("l2")))
            .Parallel<Side>("par", p => p.Branch("x", s => new Side(), b => b.Stage("p1", Record<Side>("p1")).Stage("p2", Record<Side>("p2"))), (_, _) => { })
            .SubFlow("sub", child, s => new Side(), (_, _) => { })
            .Stage("z", Record<Reconciliation>("z"))
            .Build();

        Assert.Equal(["after-a", "after-l1", "after-p1"], flow.RecoveryPointNames);
    }

    [Fact]
    public void Build_InvalidParallelSteps_ReportsEveryProblem()
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<Reconciliation>("bad-parallel")
            .Stage("start", Record<Reconciliation>("start"))
            .Parallel<Side>("none", p => { }, (_, _) => { })
            .Parallel<Side>(
                "dupes",
                p => p.Branch("a", s => new Side(), b => b.Stage("a1", Record<Side>("a1"))).Branch("a", s => new Side(), b => b.RecoveryPoint("only")),
                (_, _) => { })
            .ForEachParallel<string, Side>("zero", s => s.Accounts, (s, a) => new Side(), b => b.Stage("z", Record<Side>("z")), (_, _) => { }, maxConcurrency: 0)
            .Build());

        Assert.Equal(
            [
                "parallel 'none' has no branch",
                "parallel 'dupes' has two branches named 'a'",
                "branch 'a' of parallel 'dupes' has no stage",
                "parallel 'zero' runs at most 0 branch(es) at once; it must be 1 or more",
            ],
            error.Problems);
    }

    private Func<StageContext<TS>, CancellationToken, Task> Record<TS>(string name) => (_, _) =>
    {
        _ran.Enqueue(name);
        return Task.CompletedTask;
    };

    private Func<StageContext<Side>, CancellationToken, Task> Record(string name, int add) => (context, _) =>
    {
        _ran.Enqueue(name);
        context.State.Total += add;
        return Task.CompletedTask;
    };

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
        {
            current = seen;
        }
    }
}

/// <summary>The state of the parallel flows.</summary>
public sealed class Reconciliation
{
    public string Account { get; set; } = "";

    public List<string> Accounts { get; set; } = [];

    public List<int> Totals { get; set; } = [];

    public int Difference { get; set; }
}

/// <summary>A branch's slice.</summary>
public sealed class Side
{
    public string Account { get; set; } = "";

    public int Total { get; set; }
}

/// <summary>Inline sub-flows: a flow used as a step of another, whose recovery points save the whole stack.</summary>
public sealed class SubFlowTests(ITestOutputHelper output) : EngineTest(output)
{
    private readonly ConcurrentQueue<string> _ran = new();

    [Fact]
    public async Task SubFlow_FailureInsideChild_ResumesInsideTheChildWithBothStatesRestored()
    {
        var failures = 0;
        var child = Flow.Create<Side>("fetch-account")
            .Stage("read", (context, _) =>
            {
                _ran.Enqueue("child-read");
                context.State.Total = context.State.Account.Length * 100;
                return Task.CompletedTask;
            })
            .RecoveryPoint("read-done")
            .Stage("check", (context, _) =>
            {
                _ran.Enqueue("child-check");
                context.State.Total++;
                return failures++ == 0 ? throw new InvalidOperationException("check service down") : Task.CompletedTask;
            })
            .Build();
        var parent = Flow.Create<Reconciliation>("nightly")
            .Retry(RetryPolicy.Default with { Interval = TimeSpan.FromSeconds(10) })
            .Stage("start", (context, _) =>
            {
                _ran.Enqueue("parent-start");
                context.State.Account = "abc";
                return Task.CompletedTask;
            })
            .RecoveryPoint("started")
            .SubFlow("fetch", child, s => new Side { Account = s.Account }, (s, result) => s.Difference = result.Total)
            .Stage("read", (_, _) =>
            {
                _ran.Enqueue("parent-read");
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(parent);

        var run = await engine.StartRunAsync(parent, new Reconciliation());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Assert.Equal("read-done", waiting.LastRecoveryPoint);
        Assert.Equal("2/-1", waiting.Position);
        Assert.Contains("in stage 'check' in sub-flow 'fetch' (fetch-account v1)", waiting.LastError, StringComparison.Ordinal);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(parent, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(301, outcome.Result!.Difference);
        Assert.Equal("abc", outcome.Result.Account);
        Assert.Equal(["parent-start", "child-read", "child-check", "child-check", "parent-read"], _ran);
        Assert.Contains("read", parent.StageNames);
    }

    [Fact]
    public async Task SubFlow_WithParallelInside_ResumesTheUnfinishedNestedBranchOnly()
    {
        var failures = 0;
        var child = Flow.Create<Side>("fetch-both")
            .Stage("start", (context, _) =>
            {
                _ran.Enqueue("child-start");
                return Task.CompletedTask;
            })
            .Parallel<Side>(
                "sides",
                p => p
                    .Branch("ledger", s => new Side { Total = 1 }, b => b.Stage("ledger", (context, _) =>
                    {
                        _ran.Enqueue("ledger");
                        context.State.Total += 10;
                        return Task.CompletedTask;
                    }))
                    .Branch("bank", s => new Side { Total = 2 }, b => b
                        .Stage("bank-read", (context, _) =>
                        {
                            _ran.Enqueue("bank-read");
                            context.State.Total += 100;
                            return Task.CompletedTask;
                        })
                        .RecoveryPoint("bank-read-done")
                        .Stage("bank-check", (context, _) =>
                        {
                            _ran.Enqueue("bank-check");
                            return failures++ == 0 ? throw new InvalidOperationException("bank check down") : Task.CompletedTask;
                        })),
                (state, sides) => state.Total = sides["ledger"].Total + sides["bank"].Total,
                ParallelFailure.FinishOthers)
            .Build();
        var parent = Flow.Create<Reconciliation>("nested")
            .Retry(RetryPolicy.Default with { Interval = TimeSpan.FromSeconds(10) })
            .Stage("prepare", (_, _) =>
            {
                _ran.Enqueue("prepare");
                return Task.CompletedTask;
            })
            .SubFlow("fetch", child, s => new Side(), (s, result) => s.Difference = result.Total)
            .Build();
        var engine = CreateEngine(parent);

        var run = await engine.StartRunAsync(parent, new Reconciliation());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Assert.Equal("1/-1", waiting.Position);
        Assert.Contains("in stage 'bank-check' in branch 'bank' of parallel 'sides' in sub-flow 'fetch'", waiting.LastError, StringComparison.Ordinal);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(10));
        var outcome = await Within(engine.WaitForRunAsync(parent, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(11 + 102, outcome.Result!.Difference);
        Assert.Equal(1, _ran.Count(s => s == "prepare"));
        Assert.Equal(1, _ran.Count(s => s == "child-start"));
        Assert.Equal(1, _ran.Count(s => s == "ledger"));
        Assert.Equal(1, _ran.Count(s => s == "bank-read"));
        Assert.Equal(2, _ran.Count(s => s == "bank-check"));
    }
}
