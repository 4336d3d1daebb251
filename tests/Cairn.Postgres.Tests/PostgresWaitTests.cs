using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Postgres.Tests;

/// <summary>Durable timers and signals across two engine nodes on one PostgreSQL database, with real time.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresWaitTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _schema = cluster.NewSchema("waits");
    private readonly List<CairnEngine> _engines = [];

    private static Flow<List<string>> DelayFlow { get; } = Flow.Create<List<string>>("pause")
        .Stage("before", (context, _) => { context.State.Add($"before on {context.RecoveryId}"); return Task.CompletedTask; })
        .Delay("pause", TimeSpan.FromSeconds(2))
        .Stage("after", (context, _) => { context.State.Add("after"); return Task.CompletedTask; })
        .Build();

    private static Flow<List<string>> SignalFlow { get; } = Flow.Create<List<string>>("approve")
        .Stage("submit", (context, _) => { context.State.Add("submit"); return Task.CompletedTask; })
        .WaitFor<string>("approval", (state, by) => state.Add($"approved by {by}"))
        .Stage("pay", (context, _) => { context.State.Add("pay"); return Task.CompletedTask; })
        .Build();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }

        await cluster.DropSchemaAsync(_schema);
    }

    [Fact]
    public async Task Delay_TheNodeThatStartedTheRunStops_AnotherNodeResumesItWhenTheTimeComes()
    {
        var a = Engine("node-a", DelayFlow);
        var run = await a.StartRunAsync(DelayFlow, [], "pause-1");
        var waiting = await WaitForAsync(a, run.Id, RunStatus.Waiting);
        await a.DisposeAsync();
        var b = Engine("node-b", DelayFlow);
        await b.StartAsync();

        var outcome = await b.WaitForRunAsync(DelayFlow, run.Id).WaitAsync(Timeout);

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(["before on pause-1", "after"], outcome.Result);
        var events = await b.Store.GetEventsAsync(run.Id, Ct);
        var resumed = events.Last(e => e.Kind == RunEventKind.Started);
        Assert.Contains("on node-b from recovery point 'pause'", resumed.Message, StringComparison.Ordinal);
        Assert.True(resumed.Time >= waiting.DueAt, $"resumed at {resumed.Time:O}, before the timer's {waiting.DueAt:O}");
    }

    [Fact]
    public async Task Signal_SentThroughAnotherNode_WakesTheWaitingRunAtOnce()
    {
        // Node A polls only every minute: the wake-up that reaches it is the signal's NOTIFY. Node B, which sends the
        // signal, does not serve the flow.
        var a = Engine("node-a", SignalFlow, TimeSpan.FromMinutes(1));
        var b = Engine("node-b", DelayFlow, TimeSpan.FromMinutes(1));
        await b.StartAsync();
        var run = await a.StartRunAsync(SignalFlow, [], "order-9");
        await WaitForAsync(a, run.Id, RunStatus.Waiting);

        var delivery = await b.SignalAsync(run.Id, "approval", "the ops lead", "ticket-9");
        var duplicate = await b.Operator.SignalByRecoveryIdAsync("approve", "order-9", "approval", "an intruder", "ticket-9");
        var outcome = await a.WaitForRunAsync(SignalFlow, run.Id).WaitAsync(Timeout);

        Assert.False(delivery.Duplicate);
        Assert.True(duplicate.Duplicate);
        Assert.Equal(["submit", "approved by the ops lead", "pay"], outcome.Result);
        Assert.Equal(1L, await cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema}\".signals WHERE taken_by IS NOT NULL"));
    }

    private CairnEngine Engine(string node, FlowDefinition flow, TimeSpan? poll = null)
    {
        var engine = CairnEngine.CreateBuilder()
            .UsePostgres(cluster.ConnectionString, options => options.Schema = _schema)
            .Configure(o =>
            {
                o.NodeName = node;
                o.PollInterval = poll ?? TimeSpan.FromMilliseconds(200);
            })
            .AddFlow(flow)
            .Build();
        _engines.Add(engine);
        return engine;
    }

    // Polls the store: the run becomes Waiting in the engine's own time.
    private static async Task<RunInfo> WaitForAsync(CairnEngine engine, RunId runId, RunStatus status)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (await engine.Operator.GetRunAsync(runId) is not { } run || run.Status != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"run {runId} did not become {status} within {Timeout}");
            await Task.Delay(20);
        }

        return (await engine.Operator.GetRunAsync(runId))!;
    }
}
