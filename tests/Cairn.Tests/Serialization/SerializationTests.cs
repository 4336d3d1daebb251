using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Serialization;

public sealed class SerializationTests(ITestOutputHelper output) : EngineTest(output)
{
    [Fact]
    public async Task RecoveryPoint_UnserializableMember_FailsNamingFlowPointAndMember()
    {
        var flow = WithUnserializableMemberOnFirstAttempt();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        var error = outcome.Error!;
        Assert.StartsWith("at recovery point 'called': StateSerializationException: ", error, StringComparison.Ordinal);
        Assert.Contains("Flow serialization v1", error, StringComparison.Ordinal);
        Assert.Contains("save recovery point 'called'", error, StringComparison.Ordinal);
        Assert.Contains("at member '$.Callback'", error, StringComparison.Ordinal);
        Assert.Contains("stays resumable from its previous checkpoint", error, StringComparison.Ordinal);
        var run = await GetRunAsync(outcome.RunId);
        Assert.Equal(1, run.Attempt);
        Assert.Equal(0, run.RetriesUsed);
    }

    [Fact]
    public async Task RecoveryPoint_UnserializableMember_KeepsPreviousCheckpoint()
    {
        var flow = WithUnserializableMemberOnFirstAttempt();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        var run = await GetRunAsync(outcome.RunId);
        Assert.Equal("loaded", run.LastRecoveryPoint);
        Assert.Equal(1, run.CheckpointSequence);
        var data = await Store.GetRecoveryDataAsync(outcome.RunId, Ct);
        Assert.NotNull(data.Checkpoint);
        Assert.Equal("loaded", data.Checkpoint.RecoveryPoint);
        Assert.True(Checksum.Matches(data.Checkpoint.State.Span, data.Checkpoint.Checksum));
        var saved = engine.Serializer.Deserialize<TestState>(data.Checkpoint.State.Span);
        Assert.Equal(["load"], saved.Trace);
        Assert.Null(saved.Callback);
    }

    [Fact]
    public async Task RerunAsync_AfterSerializationFailure_ResumesFromPreviousCheckpointAndCompletes()
    {
        var flow = WithUnserializableMemberOnFirstAttempt();
        var engine = CreateEngine(flow);
        var failed = await Within(engine.RunAsync(flow, new TestState()));
        Assert.Equal(RunStatus.Failed, failed.Status);

        await engine.RerunAsync(failed.RunId);
        var outcome = await Within(engine.WaitForRunAsync(flow, failed.RunId));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["load", "call-attempt2", "report"], outcome.Result!.Trace);
        Assert.Equal(1, Counter["load"]);
        Assert.Equal(2, Counter["call"]);
        Assert.Equal(1, Counter["report"]);
    }

    [Fact]
    public async Task RecoveryPoint_ObjectCycle_FailsNamingMember()
    {
        var flow = Flow.Create<CyclicState>("cycle")
            .Stage("link", (context, _) =>
            {
                context.State.Next = context.State;
                return Task.CompletedTask;
            })
            .RecoveryPoint("linked")
            .Stage("after", (_, _) => Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new CyclicState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("save recovery point 'linked'", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("at member '$.Next.Next", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecoveryPoint_StateOverMaxStateSize_FailsNamingTheLimit()
    {
        var flow = Flow.Create<TestState>("oversized")
            .Stage("grow", (context, _) =>
            {
                context.State.Payload = new string('x', 2_000);
                return Task.CompletedTask;
            })
            .RecoveryPoint("grown")
            .Stage("after", Counter.Step("after"))
            .Build();
        var engine = CreateEngine(flow, o => o.MaxStateSize = 1_000);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("could not save recovery point 'grown'", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("over the limit of 1,000 bytes (CairnOptions.MaxStateSize)", outcome.Error, StringComparison.Ordinal);
        Assert.Equal(0, Counter["after"]);
        Assert.Null((await Store.GetRecoveryDataAsync(outcome.RunId, Ct)).Checkpoint);
    }

    [Fact]
    public async Task RunAsync_ResultOverMaxStateSize_Fails()
    {
        var flow = Flow.Create<TestState>("oversized-result")
            .Stage("grow", (context, _) =>
            {
                context.State.Payload = new string('x', 2_000);
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(flow, o => o.MaxStateSize = 1_000);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.StartsWith("while saving its result: StateSerializationException", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartRunAsync_UnserializableInput_ThrowsNamingFlowAndMember()
    {
        var flow = Flow.Create<TestState>("bad-input").Stage("a", Counter.Step("a")).Build();
        var engine = CreateEngine(flow);

        var error = await Assert.ThrowsAsync<StateSerializationException>(() => engine.StartRunAsync(flow, new TestState { Attachment = (nint)42 }));

        Assert.Equal("$.Attachment", error.Member);
        Assert.StartsWith("Flow 'bad-input v1' cannot start: its input of type TestState cannot be serialized at member '$.Attachment'", error.Message, StringComparison.Ordinal);
        Assert.IsType<NotSupportedException>(error.InnerException);
        Assert.Empty(await Store.ListRunsAsync(new RunQuery(), Ct));
        Assert.Equal(0, Counter["a"]);
    }

    [Fact]
    public async Task StartRunAsync_InputOverMaxStateSize_ThrowsNamingTheLimit()
    {
        var flow = Flow.Create<TestState>("big-input").Stage("a", Counter.Step("a")).Build();
        var engine = CreateEngine(flow, o => o.MaxStateSize = 100);

        var error = await Assert.ThrowsAsync<StateSerializationException>(() => engine.StartRunAsync(flow, new TestState { Payload = new string('x', 200) }));

        Assert.Contains("Flow 'big-input v1' cannot start", error.Message, StringComparison.Ordinal);
        Assert.Contains("over the limit of 100 bytes (CairnOptions.MaxStateSize)", error.Message, StringComparison.Ordinal);
        Assert.Empty(await Store.ListRunsAsync(new RunQuery(), Ct));
    }

    [Fact]
    public async Task WaitForRunAsync_ResultNoLongerReadable_ThrowsStateSerializationException()
    {
        var flow = Flow.Create<TestState>("unreadable-result").Stage("a", Counter.Step("a")).Build();
        var engine = CreateEngine(flow);
        var outcome = await Within(engine.RunAsync(flow, new TestState()));
        var other = Flow.Create<int[]>("unreadable-result").Stage("a", (_, _) => Task.CompletedTask).Build();

        var error = await Assert.ThrowsAsync<StateSerializationException>(() => engine.WaitForRunAsync(other, outcome.RunId));

        Assert.Contains("can no longer be read as Int32[]", error.Message, StringComparison.Ordinal);
    }

    private Flow<TestState> WithUnserializableMemberOnFirstAttempt() =>
        Flow.Create<TestState>("serialization")
            .Stage("load", Counter.Step("load"))
            .RecoveryPoint("loaded")
            .Stage("call", (context, _) =>
            {
                var attempt = Counter.Hit("call");
                context.State.Trace.Add($"call-attempt{attempt}");

                // A delegate cannot be saved; the fixed stage clears it before the recovery point.
                context.State.Callback = attempt == 1 ? () => 42 : null;
                return Task.CompletedTask;
            })
            .RecoveryPoint("called")
            .Stage("report", Counter.Step("report"))
            .Build();

    public sealed class CyclicState
    {
        public CyclicState? Next { get; set; }
    }
}
