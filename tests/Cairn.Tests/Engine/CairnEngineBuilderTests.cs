using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;

namespace Cairn.Tests.Engine;

public sealed class CairnEngineBuilderTests
{
    private static readonly Flow<TestState> AnyFlow = Flow.Create<TestState>("any").Stage("a", (_, _) => Task.CompletedTask).Build();

    public static TheoryData<string, Action<CairnOptions>, string> InvalidOptions => new()
    {
        { "MaxConcurrentRuns", o => o.MaxConcurrentRuns = 0, "MaxConcurrentRuns is 0; it must be 1 or more" },
        { "PollInterval", o => o.PollInterval = TimeSpan.Zero, "PollInterval is 00:00:00; it must be positive" },
        { "LeaseDuration", o => o.LeaseDuration = TimeSpan.FromMilliseconds(500), "LeaseDuration is 00:00:00.5000000; it must be at least 1 second" },
        { "ShutdownTimeout", o => o.ShutdownTimeout = TimeSpan.FromSeconds(-1), "ShutdownTimeout is -00:00:01; it must not be negative" },
        { "RetentionPeriod", o => o.RetentionPeriod = TimeSpan.Zero, "RetentionPeriod is 00:00:00; it must be positive or null" },
        { "PurgeInterval", o => o.PurgeInterval = TimeSpan.Zero, "PurgeInterval is 00:00:00; it must be positive" },
        { "MaxStateSize", o => o.MaxStateSize = 0, "MaxStateSize is 0; it must be positive" },
        { "CheckpointsToKeep", o => o.CheckpointsToKeep = 0, "CheckpointsToKeep is 0; it must be 1 or more" },
        { "NodeName", o => o.NodeName = " ", "NodeName must not be blank" },
        { "Serializer", o => o.Serializer = null!, "Serializer must be set" },
        { "DefaultRetryPolicy", o => o.DefaultRetryPolicy = null!, "DefaultRetryPolicy must be set" },
        { "DefaultRetryPolicy.MaxRetries", o => o.DefaultRetryPolicy = new RetryPolicy { MaxRetries = -1 }, "DefaultRetryPolicy.MaxRetries is -1; it must be 0 or more" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Build_InvalidOption_ThrowsArgumentExceptionNamingIt(string option, Action<CairnOptions> configure, string expected)
    {
        var builder = CairnEngine.CreateBuilder().UseInMemoryStore().AddFlow(AnyFlow).Configure(configure);

        var error = Assert.Throws<ArgumentException>(builder.Build);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(option.Split('.')[0], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InvalidOption_DoesNotCreateTheStore()
    {
        var created = false;
        var builder = CairnEngine.CreateBuilder()
            .UseStore(context =>
            {
                created = true;
                return new InMemoryRunStore(context.TimeProvider);
            })
            .Configure(o => o.MaxConcurrentRuns = 0);

        Assert.Throws<ArgumentException>(builder.Build);
        Assert.False(created);
    }

    [Fact]
    public void Build_NoStore_ThrowsNamingTheChoices()
    {
        var builder = CairnEngine.CreateBuilder().AddFlow(AnyFlow);

        var error = Assert.Throws<InvalidOperationException>(builder.Build);

        Assert.Contains("No store is configured", error.Message, StringComparison.Ordinal);
        Assert.Contains("UseInMemoryStore()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_Defaults_UsesGivenStoreClockAndFlows()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryRunStore(time);

        await using var engine = CairnEngine.CreateBuilder()
            .UseStore(store)
            .UseTimeProvider(time)
            .Configure(o => o.NodeName = "node-1")
            .AddFlow(AnyFlow)
            .Build();

        Assert.Same(store, engine.Store);
        Assert.Same(time, engine.TimeProvider);
        Assert.Equal("node-1", engine.NodeName);
        Assert.Same(AnyFlow, Assert.Single(engine.Flows));
    }

    [Fact]
    public void Build_TwoDefinitionsOfOneFlowVersion_Throws()
    {
        var other = Flow.Create<TestState>("any").Stage("b", (_, _) => Task.CompletedTask).Build();
        var builder = CairnEngine.CreateBuilder().UseInMemoryStore().AddFlow(AnyFlow).AddFlow(other);

        var error = Assert.Throws<InvalidOperationException>(builder.Build);

        Assert.Contains("A different definition of flow 'any v1' is already registered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_TwoVersionsOfOneFlow_RegistersBothSideBySide()
    {
        var v2 = Flow.Create<TestState>("any", version: 2).Stage("a", (_, _) => Task.CompletedTask).Build();

        await using var engine = CairnEngine.CreateBuilder().UseInMemoryStore().AddFlow(v2).AddFlow(AnyFlow).Build();

        Assert.Equal([AnyFlow, v2], engine.Flows.OrderBy(f => f.Version));
    }

    [Fact]
    public async Task Build_BuilderChangedAfterwards_EngineKeepsItsSnapshot()
    {
        var builder = CairnEngine.CreateBuilder().UseInMemoryStore().AddFlow(AnyFlow).Configure(o =>
        {
            o.NodeName = "node-1";
            o.PollInterval = TimeSpan.FromSeconds(2);
        });
        await using var engine = builder.Build();

        builder.Configure(o =>
        {
            o.NodeName = "node-2";
            o.PollInterval = TimeSpan.FromSeconds(9);
            o.MaxConcurrentRuns = 1;
            o.DefaultRetryPolicy = new RetryPolicy { MaxRetries = 0 };
        });
        builder.Options.LeaseDuration = TimeSpan.FromMinutes(5);
        builder.AddFlow(Flow.Create<TestState>("later").Stage("a", (_, _) => Task.CompletedTask).Build());

        Assert.NotSame(builder.Options, engine.Options);
        Assert.Equal("node-1", engine.NodeName);
        Assert.Equal(TimeSpan.FromSeconds(2), engine.Options.PollInterval);
        Assert.Equal(64, engine.Options.MaxConcurrentRuns);
        Assert.Equal(TimeSpan.FromSeconds(30), engine.Options.LeaseDuration);
        Assert.Same(RetryPolicy.Default, engine.Options.DefaultRetryPolicy);
        Assert.Same(AnyFlow, Assert.Single(engine.Flows));
    }

    [Fact]
    public async Task Build_CalledTwice_ThrowsRatherThanShareTheStore()
    {
        var builder = CairnEngine.CreateBuilder().UseStore(new InMemoryRunStore()).AddFlow(AnyFlow);
        await using var engine = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(builder.Build);

        Assert.Contains("already built an engine", error.Message, StringComparison.Ordinal);
        Assert.Contains("CairnEngine.CreateBuilder()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_AfterInvalidOptionFixed_Builds()
    {
        var builder = CairnEngine.CreateBuilder().UseInMemoryStore().AddFlow(AnyFlow).Configure(o => o.MaxConcurrentRuns = 0);
        Assert.Throws<ArgumentException>(builder.Build);

        builder.Options.MaxConcurrentRuns = 2;
        await using var engine = builder.Build();

        Assert.Equal(2, engine.Options.MaxConcurrentRuns);
    }

    [Fact]
    public async Task DisposeAsync_EngineCreatedStore_DisposesIt()
    {
        var store = new DisposalTrackingStore();
        var engine = CairnEngine.CreateBuilder().UseStore(_ => store).AddFlow(AnyFlow).Build();

        await engine.DisposeAsync();

        Assert.True(store.Disposed);
    }

    [Fact]
    public async Task DisposeAsync_CallerStore_LeavesItOpen()
    {
        var store = new DisposalTrackingStore();
        var engine = CairnEngine.CreateBuilder().UseStore(store).AddFlow(AnyFlow).Build();

        await engine.DisposeAsync();

        Assert.False(store.Disposed);
    }

    private sealed class DisposalTrackingStore : RunStore, IRunQueries, IRunOperations
    {
        private readonly InMemoryRunStore _inner = new();

        public bool Disposed { get; private set; }

        public override ValueTask DisposeAsync()
        {
            Disposed = true;
            return base.DisposeAsync();
        }

        public override Task InitializeAsync(CancellationToken cancellationToken) => _inner.InitializeAsync(cancellationToken);

        public override Task<CreateRunResult> CreateRunAsync(NewRun run, CancellationToken cancellationToken) => _inner.CreateRunAsync(run, cancellationToken);

        public override Task<RunRecord?> GetRunAsync(RunId runId, CancellationToken cancellationToken) => _inner.GetRunAsync(runId, cancellationToken);

        public Task<RunRecord?> FindRunAsync(string flowName, string recoveryId, CancellationToken cancellationToken) => _inner.FindRunAsync(flowName, recoveryId, cancellationToken);

        public Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken) => _inner.ListRunsAsync(query, cancellationToken);

        public Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId, CancellationToken cancellationToken) => _inner.GetEventsAsync(runId, cancellationToken);

        public override Task<RecoveryData> GetRecoveryDataAsync(RunId runId, CancellationToken cancellationToken) => _inner.GetRecoveryDataAsync(runId, cancellationToken);

        public Task<ReadOnlyMemory<byte>?> GetResultAsync(RunId runId, CancellationToken cancellationToken) => _inner.GetResultAsync(runId, cancellationToken);

        public override Task<IReadOnlyList<ClaimedRun>> ClaimDueRunsAsync(ClaimRequest request, CancellationToken cancellationToken) => _inner.ClaimDueRunsAsync(request, cancellationToken);

        public override Task<int> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken) => _inner.RenewLeasesAsync(owner, leaseDuration, cancellationToken);

        public override Task SaveCheckpointAsync(RunLease lease, Checkpoint checkpoint, int keep, CancellationToken cancellationToken) => _inner.SaveCheckpointAsync(lease, checkpoint, keep, cancellationToken);

        public override Task TransitionAsync(RunLease lease, RunTransition transition, CancellationToken cancellationToken) => _inner.TransitionAsync(lease, transition, cancellationToken);

        public override Task CompleteRunAsync(RunLease lease, ReadOnlyMemory<byte> result, string message, IReadOnlyList<OutboxMessage> outbox, CancellationToken cancellationToken) =>
            _inner.CompleteRunAsync(lease, result, message, outbox, cancellationToken);

        public override Task<int> InterruptAbandonedRunsAsync(string owner, bool exclusive, TimeSpan resumeAfter, CancellationToken cancellationToken) => _inner.InterruptAbandonedRunsAsync(owner, exclusive, resumeAfter, cancellationToken);

        public Task<RunRecord> RequestRerunAsync(RunId runId, string message, CancellationToken cancellationToken) => _inner.RequestRerunAsync(runId, message, cancellationToken);

        public Task<RunRecord> CancelRunAsync(RunId runId, string message, CancellationToken cancellationToken) => _inner.CancelRunAsync(runId, message, cancellationToken);

        public Task<int> PurgeAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken) => _inner.PurgeAsync(finishedBefore, cancellationToken);

        public Task<RunRecord> RequestCompensationAsync(RunId runId, string compensation, string message, CancellationToken cancellationToken) =>
            _inner.RequestCompensationAsync(runId, compensation, message, cancellationToken);

        public Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(RunId runId, CancellationToken cancellationToken) =>
            _inner.GetCheckpointsAsync(runId, cancellationToken);

        public Task<Checkpoint?> GetCheckpointAsync(RunId runId, long sequence, CancellationToken cancellationToken) =>
            _inner.GetCheckpointAsync(runId, sequence, cancellationToken);

        public Task<RunRecord> RequestRerunFromAsync(RunId runId, long sequence, byte[]? state, string message, CancellationToken cancellationToken) =>
            _inner.RequestRerunFromAsync(runId, sequence, state, message, cancellationToken);
    }
}
