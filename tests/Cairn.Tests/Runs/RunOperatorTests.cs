using System.Text;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

public sealed class RunOperatorTests(ITestOutputHelper output) : EngineTest(output)
{
    private static Flow<TestState> TwoPoints(string name = "two-points", RetryPolicy? retry = null)
    {
        var builder = Flow.Create<TestState>(name)
            .Stage("a", (ctx, _) => { ctx.State.Value++; return Task.CompletedTask; })
            .RecoveryPoint("after-a", "a done")
            .Stage("b", (ctx, _) => { ctx.State.Value += 10; return Task.CompletedTask; })
            .RecoveryPoint("after-b")
            .Stage("c", (ctx, _) => { ctx.State.Value += 100; return Task.CompletedTask; });
        return (retry is null ? builder : builder.Retry(retry)).Build();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10_000)]
    public async Task ListRunsAsync_LimitInRange_GivesThatManyRunsAndACursorOnlyWhenMoreAreLeft(int limit)
    {
        var flow = TwoPoints();
        await using var engine = CreateEngine(flow);
        for (var i = 0; i < 3; i++)
        {
            await engine.RunAsync(flow, new TestState(), $"r{i}");
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var page = await RunOperator.Create(Store).ListRunsAsync(new RunQuery { Limit = limit });

        Assert.Equal(Math.Min(limit, 3), page.Runs.Count);
        Assert.Equal(limit < 3, page.NextCursor is not null);
        if (page.NextCursor is { } next)
        {
            Assert.Equal(new RunCursor(page.Runs[^1].CreatedAt, page.Runs[^1].Id), next);
        }
    }

    [Fact]
    public async Task RunOperator_NullOrEmptyArguments_AreRefusedByName()
    {
        Assert.Equal("store", Assert.Throws<ArgumentNullException>(() => RunOperator.Create(null!)).ParamName);
        var operators = RunOperator.Create(Store);
        Assert.Equal("query", (await Assert.ThrowsAsync<ArgumentNullException>(() => operators.ListRunsAsync(null!))).ParamName);
        Assert.Equal("flowName", (await Assert.ThrowsAnyAsync<ArgumentException>(() => operators.FindRunAsync("", "id"))).ParamName);
        Assert.Equal("recoveryId", (await Assert.ThrowsAnyAsync<ArgumentException>(() => operators.FindRunAsync("flow", ""))).ParamName);
        Assert.Equal("run", Assert.Throws<ArgumentNullException>(() => RunCursor.After(null!)).ParamName);
    }

    [Fact]
    public void RunCursor_LatestTimeThereIs_ReadsBack()
    {
        var cursor = new RunCursor(DateTimeOffset.MaxValue, RunId.New());

        Assert.Equal(cursor, RunCursor.Parse(cursor.ToString()));
        Assert.False(RunCursor.TryParse($"{DateTimeOffset.MaxValue.UtcTicks + 1}-{cursor.RunId.Value:N}", out _));
    }

    [Fact]
    public async Task ListRunsAsync_PagesOfTwo_WalkEveryRunOnceAndEndWithoutCursor()
    {
        var flow = TwoPoints();
        await using var engine = CreateEngine(flow);
        var ids = new List<RunId>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await engine.RunAsync(flow, new TestState(), $"r{i}")).RunId);
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var operators = RunOperator.Create(Store);
        var seen = new List<RunId>();
        string? cursor = null; // A tool hands the cursor back as text.
        var pages = 0;
        do
        {
            var page = await operators.ListRunsAsync(new RunQuery { Limit = 2, After = cursor is null ? null : RunCursor.Parse(cursor) });
            Assert.InRange(page.Runs.Count, 1, 2);
            seen.AddRange(page.Runs.Select(r => r.Id));
            cursor = page.NextCursor?.ToString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(ids), seen);
    }

    [Fact]
    public async Task ListRunsAsync_Filters_ByStatusFlowAndRecoveryId()
    {
        var flow = TwoPoints();
        var other = TwoPoints("other");
        await using var engine = CreateEngine(flow);
        var wanted = (await engine.RunAsync(flow, new TestState(), "same")).RunId;
        await engine.RunAsync(other, new TestState(), "same");
        await engine.RunAsync(flow, new TestState(), "different");

        var page = await engine.Operator.ListRunsAsync(new RunQuery { FlowName = flow.Name, RecoveryId = "same", Statuses = [RunStatus.Completed] });

        Assert.Equal([wanted], page.Runs.Select(r => r.Id));
        Assert.Null(page.NextCursor);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(10_001)]
    public async Task ListRunsAsync_LimitOutOfRange_ThrowsArgumentNamingTheLimit(int limit)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => RunOperator.Create(Store).ListRunsAsync(new RunQuery { Limit = limit }));

        Assert.Contains($"not {limit}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("12-notaguid")]
    [InlineData("-0123456789abcdef0123456789abcdef")]
    public void RunCursor_ForeignText_IsRefusedNamingIt(string cursor)
    {
        var error = Assert.Throws<FormatException>(() => RunCursor.Parse(cursor));

        Assert.Equal($"'{cursor}' is not a cursor of a page of runs.", error.Message);
        Assert.False(RunCursor.TryParse(cursor, out _));
    }

    [Fact]
    public void RunCursor_TextForm_ReadsBackTheSameCursor()
    {
        var cursor = new RunCursor(Time.Start.AddTicks(12345), RunId.New());

        Assert.Equal(cursor, RunCursor.Parse(cursor.ToString()));
        Assert.Equal($"{cursor.CreatedAt.UtcTicks}-{cursor.RunId.Value:N}", cursor.ToString());
    }

    [Fact]
    public async Task GetRunAsync_StartedRun_ShowsTypedRetryPolicyAndNoPlumbing()
    {
        var retry = RetryPolicy.Default with { MaxRetries = 7, Interval = TimeSpan.FromSeconds(3) };
        var flow = TwoPoints(retry: retry);
        await using var engine = CreateEngine(flow);
        var outcome = await engine.RunAsync(flow, new TestState(), "typed");

        var run = await RunOperator.Create(Store).GetRunAsync(outcome.RunId);

        Assert.NotNull(run);
        Assert.Equal(retry with { PermanentExceptions = [] }, run.RetryPolicy! with { PermanentExceptions = [] });
        Assert.Empty(run.RetryPolicy.PermanentExceptions);
        Assert.Equal("typed", run.RecoveryId);
        Assert.True(run.IsFinished);
        Assert.Null(run.ParentRunId);
        Assert.Null(await RunOperator.Create(Store).GetRunAsync(RunId.New()));
    }

    [Fact]
    public async Task GetLatestCheckpointAsync_TamperedState_SaysTheChecksumFails()
    {
        var created = await Store.CreateRunAsync(
            new NewRun(RunId.New(), "tampered", 1, "t", "{}"u8.ToArray(), "x", """{"retryPolicy":{}}""") { ClaimFor = new NewRunClaim("node", TimeSpan.FromMinutes(1)) }, Ct);
        var state = Encoding.UTF8.GetBytes("""{"value":1}""");
        var operators = RunOperator.Create(Store);
        await Store.SaveCheckpointAsync(created.Lease!, new Checkpoint(1, FlowPath.Of(1), "point", null, state, StoreRules.StateChecksum(state)), 2, Ct);
        var intact = await operators.GetLatestCheckpointAsync(created.Run.Id);

        // Stores do not check what they are given: a checksum that does not match stands for a state changed in the store.
        await Store.SaveCheckpointAsync(created.Lease!, new Checkpoint(2, FlowPath.Of(1), "point", null, state, StoreRules.StateChecksum("{}"u8)), 2, Ct);
        var tampered = await operators.GetLatestCheckpointAsync(created.Run.Id);

        Assert.True(intact!.ChecksumMatches);
        Assert.False(tampered!.ChecksumMatches);
        Assert.Equal("point", tampered.Checkpoint.RecoveryPoint);
    }

    [Fact]
    public async Task WaitForRunAsync_ByIdAlone_ReturnsTheFinishedRun()
    {
        var gate = NewGate();
        var flow = Flow.Create<TestState>("gated")
            .Stage("wait", async (_, ct) => await gate.Task.WaitAsync(ct))
            .RecoveryPoint("waited")
            .Stage("done", (_, _) => Task.CompletedTask)
            .Build();
        await using var engine = CreateEngine(flow);
        var run = await engine.StartRunAsync(flow, new TestState());

        var waiting = engine.Operator.WaitForRunAsync(run.Id);
        Assert.False(waiting.IsCompleted);
        gate.SetResult();

        var finished = await Within(waiting);
        Assert.Equal(RunStatus.Completed, finished.Status);
    }

    [Fact]
    public async Task WaitForRunAsync_UnknownRun_ThrowsRunNotFound()
    {
        await Assert.ThrowsAsync<RunNotFoundException>(() => RunOperator.Create(Store).WaitForRunAsync(RunId.New()));
    }

    [Fact]
    public async Task PurgeAsync_RetentionBeforeYearOne_ThrowsOutOfRangeWithDays()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => RunOperator.Create(Store).PurgeAsync(TimeSpan.FromDays(3_000_000)));

        Assert.Contains("3,000,000 days", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_StoreWithoutOperatorContracts_ThrowsNamingTheStoreAndContract()
    {
        var error = Assert.Throws<ArgumentException>(() => RunOperator.Create(new EngineOnlyStore()));

        Assert.Contains("EngineOnlyStore does not implement IRunQueries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_BadOptions_ThrowsNamingTheOption()
    {
        var error = Assert.Throws<ArgumentException>(() => RunOperator.Create(Store, new RunOperatorOptions { PollInterval = TimeSpan.Zero }));

        Assert.Contains("RunOperatorOptions.PollInterval", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A store with the engine-facing contract alone.</summary>
    private sealed class EngineOnlyStore : RunStore
    {
        public override Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override Task<RunRecord?> GetRunAsync(RunId runId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override Task<RecoveryData> GetRecoveryDataAsync(RunId runId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override Task<IReadOnlyList<ClaimedRun>> ClaimDueRunsAsync(ClaimRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override Task<int> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override Task SaveCheckpointAsync(RunLease lease, Checkpoint checkpoint, int keep, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override Task TransitionAsync(RunLease lease, RunTransition transition, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override Task CompleteRunAsync(RunLease lease, ReadOnlyMemory<byte> result, string message, IReadOnlyList<OutboxMessage> outbox, CancellationToken cancellationToken) => throw new NotSupportedException();

        public override Task<int> InterruptAbandonedRunsAsync(string owner, bool exclusive, TimeSpan resumeAfter, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
