using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Streams;

/// <summary>Large states spill: serialized straight into the stream store past a threshold, and read back from it.</summary>
public sealed class StateSpillTests(ITestOutputHelper output) : EngineTest(output)
{
    private const int Threshold = 20_000;

    private static string Rows(int count) => string.Join('\n', Enumerable.Range(0, count).Select(i => $"order-{i},customer-{i % 97},{i * 3}.50"));

    private static Flow<TestState> ImportFlow(Func<StageContext<TestState>, Task>? afterResume = null) => Flow.Create<TestState>("imports")
        .Retry(p => p with { MaxRetries = 1, Interval = TimeSpan.FromSeconds(1) })
        .Stage("load", (c, _) =>
        {
            c.State.Payload = Rows(2000);
            return Task.CompletedTask;
        })
        .RecoveryPoint("loaded", "rows loaded")
        .Stage("insert", async (c, _) =>
        {
            c.State.Trace.Add($"insert attempt {c.Recovery.Attempt}: {c.State.Payload?.Length}");
            if (afterResume is not null)
            {
                await afterResume(c);
            }

            if (c.Recovery.Attempt == 1)
            {
                throw new InvalidOperationException("the database went away");
            }
        })
        .Build();

    [Fact]
    public async Task AStateOverTheThreshold_IsSavedAsTheSpilledStream_AndRestoredFromIt()
    {
        IReadOnlyCollection<string>? names = null;
        var flow = ImportFlow(c =>
        {
            names = c.Streams.Names;
            return Task.CompletedTask;
        });
        var engine = CreateEngine(flow, o => o.StateSpillThreshold = Threshold);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        var saved = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        AdvanceAndWake(engine, TimeSpan.FromSeconds(1));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(Rows(2000), outcome.Result!.Payload);
        // The trace of attempt 1 went with its memory: attempt 2 resumed from the spilled state.
        Assert.Equal(["insert attempt 2: " + Rows(2000).Length], outcome.Result.Trace);
        Assert.True(saved.State.IsEmpty);
        var spilled = Assert.Single(saved.Streams).Value;
        Assert.Equal("$state", Assert.Single(saved.Streams).Key);
        Assert.True(spilled.Length > Rows(2000).Length, $"spilled {spilled}");
        Assert.Empty(names!);
    }

    [Fact]
    public async Task TheSpilledStateOfACompletedRun_IsSweptOnceUntouchedLongEnough_AndKeptWhileACheckpointRefersToIt()
    {
        var flow = Flow.Create<TestState>("imports")
            .Retry(RetryPolicy.None)
            .Stage("load", (c, _) =>
            {
                c.State.Payload = Rows(2000);
                return Task.CompletedTask;
            })
            .RecoveryPoint("loaded")
            .Stage("insert", (c, _) => c.Recovery.Attempt == 1 ? throw new InvalidOperationException("the database went away") : Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow, o => o.StateSpillThreshold = Threshold);
        var failed = await Within(engine.RunAsync(flow, new TestState()));
        Assert.Equal(RunStatus.Failed, failed.Status);
        var spilled = (await Store.GetRecoveryDataAsync(failed.RunId, Ct)).Checkpoint!.Streams["$state"];

        Time.Advance(TimeSpan.FromHours(25));
        Assert.Equal(0, await engine.SweepStreamsAsync());
        await engine.RerunAsync(failed.RunId);
        Assert.True((await Within(engine.WaitForRunAsync(flow, failed.RunId))).IsCompleted);
        Time.Advance(TimeSpan.FromHours(25));

        Assert.Equal(1, await engine.SweepStreamsAsync());
        await Assert.ThrowsAsync<StreamNotFoundException>(() => Store.OpenReadAsync(spilled, Ct));
    }

    [Fact]
    public async Task AStateHoldingOneValueOverAMebibyte_IsSpilledToBeReadBackWhole_AndRestored()
    {
        var value = new string('r', 1_500_000);
        var flow = Flow.Create<TestState>("one-large-value")
            .Retry(RetryPolicy.None)
            .Stage("load", (c, _) =>
            {
                c.State.Payload = value;
                return Task.CompletedTask;
            })
            .RecoveryPoint("loaded")
            .Stage("insert", (c, _) => c.Recovery.Attempt == 1 ? throw new InvalidOperationException("stop") : Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow, o => o.StateSpillThreshold = Threshold);
        var failed = await Within(engine.RunAsync(flow, new TestState()));
        var saved = (await Store.GetRecoveryDataAsync(failed.RunId, Ct)).Checkpoint!;

        await engine.RerunAsync(failed.RunId);
        var outcome = await Within(engine.WaitForRunAsync(flow, failed.RunId));

        Assert.Equal("$state.whole", Assert.Single(saved.Streams).Key);
        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(value, outcome.Result!.Payload);
    }

    [Fact]
    public async Task AStateUnderTheThreshold_StaysInTheCheckpoint()
    {
        var flow = Flow.Create<TestState>("small")
            .Stage("load", (c, _) =>
            {
                c.State.Payload = Rows(10);
                return Task.CompletedTask;
            })
            .RecoveryPoint("loaded")
            .Stage("fail", (_, _) => throw new InvalidOperationException("stop here"))
            .Retry(RetryPolicy.None)
            .Build();
        var engine = CreateEngine(flow, o => o.StateSpillThreshold = Threshold);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        var saved = (await Store.GetRecoveryDataAsync(outcome.RunId, Ct)).Checkpoint!;
        Assert.Contains("order-9", System.Text.Encoding.UTF8.GetString(saved.State.Span), StringComparison.Ordinal);
        Assert.Empty(saved.Streams);
    }

    [Fact]
    public async Task SpillingOff_KeepsALargeStateInTheCheckpoint()
    {
        var flow = ImportFlow();
        var engine = CreateEngine(flow, o => o.StateSpillThreshold = null);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);

        var saved = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        Assert.True(saved.State.Length > Rows(2000).Length);
        Assert.Empty(saved.Streams);
    }

    [Fact]
    public async Task AStateOverMaxStateSize_FailsTheSaveWithTheLimitNamed_AndLeavesNoContentBehind()
    {
        var flow = ImportFlow();
        var engine = CreateEngine(flow, o =>
        {
            o.StateSpillThreshold = Threshold;
            o.MaxStateSize = 40_000;
        });

        var run = await engine.StartRunAsync(flow, new TestState());
        var failed = await WaitForAsync(engine, run.Id, r => r.LastError is not null, "the save to fail");

        Assert.Contains("over the limit of 40,000 bytes (CairnOptions.MaxStateSize)", failed.LastError, StringComparison.Ordinal);
        Assert.Contains("recovery point 'loaded'", failed.LastError, StringComparison.Ordinal);
        var stored = new List<StoredStream>();
        await foreach (var stream in Store.ListUntouchedAsync(DateTimeOffset.MaxValue, Ct))
        {
            stored.Add(stream);
        }

        Assert.Empty(stored);
    }

    [Fact]
    public async Task ASpilledStateWhoseContentChanged_FailsTheResumeAsCorrupt_NamingTheRecoveryPoint()
    {
        var flow = ImportFlow();
        var engine = CreateEngine(flow, o => o.StateSpillThreshold = Threshold);
        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        var spilled = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!.Streams["$state"];
        Store.ReplaceStreamContentForTests(spilled, System.Text.Encoding.UTF8.GetBytes(new string('x', (int)spilled.Length)));

        AdvanceAndWake(engine, TimeSpan.FromSeconds(1));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("StreamCorruptedException: The spilled state of run", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("recovery point 'loaded'", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStageCannotPutAStreamUnderAReservedName()
    {
        var flow = Flow.Create<TestState>("reserved")
            .Stage("put", async (c, ct) => await c.Streams.PutAsync("$state", new MemoryStream([1, 2, 3]), ct))
            .Retry(RetryPolicy.None)
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("Stream name '$state' is reserved", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void AThresholdBelowOneKibibyte_IsRefusedAtStartUp()
    {
        var error = Assert.Throws<ArgumentException>(() => CairnEngine.CreateBuilder().UseStore(Store).Configure(o => o.StateSpillThreshold = 100).Build());

        Assert.Contains("StateSpillThreshold is 100; it must be at least 1024 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDefaultSerializersStreamingMethods_WriteAndReadWhatTheArrayMethodsDo()
    {
        var serializer = new JsonStateSerializer();
        var state = new TestState { Value = 7, Payload = Rows(50) };
        using var written = new MemoryStream();

        await serializer.SerializeAsync(written, state, Ct);
        var read = await serializer.DeserializeAsync<TestState>(new MemoryStream(written.ToArray()), Ct);

        Assert.Equal(serializer.Serialize(state), written.ToArray());
        Assert.Equal((7, Rows(50)), (read.Value, read.Payload));
    }
}
