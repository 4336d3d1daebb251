using System.Diagnostics;
using Cairn.CrashTest.Harness;
using Cairn.Flows;
using Cairn.Postgres;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Cli.Tests;

/// <summary>
/// A load of crash-test runs for <c>cairn serve</c> nodes on a PostgreSQL store: created straight in the store (see
/// <see cref="TestRuns"/>), then awaited and checked through an observer engine that executes none of them.
/// </summary>
internal sealed class NodeLoad : IAsyncDisposable
{
    private readonly Dictionary<string, Flow<CrashState>> _flows =
        CrashFlowMix.Plans.ToDictionary(p => p.Name, p => p.Build((_, _) => Task.CompletedTask), StringComparer.Ordinal);

    private readonly List<LoadRun> _runs = [];
    private readonly int _seed;

    private NodeLoad(CairnEngine observer, int seed)
    {
        Observer = observer;
        _seed = seed;
    }

    /// <summary>The engine the test reads the store with; it has no flows, so it claims no run.</summary>
    public CairnEngine Observer { get; }

    public RunStore Store => Observer.Store;

    /// <summary>Every run created so far, in the order of their indexes.</summary>
    public IReadOnlyList<LoadRun> Runs => _runs;

    /// <summary>Starts an observer on <paramref name="store"/>; runs of the load will use the flow mix of <paramref name="seed"/>.</summary>
    public static async Task<NodeLoad> StartAsync(string store, int seed)
    {
        var observer = CairnEngine.CreateBuilder()
            .UsePostgres(store)
            .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(100))
            .Build();
        try
        {
            await observer.StartAsync();
            return new NodeLoad(observer, seed);
        }
        catch
        {
            await observer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates <paramref name="count"/> more runs, all at once, and returns them.</summary>
    public async Task<IReadOnlyList<LoadRun>> AddAsync(int count)
    {
        var first = _runs.Count;
        var created = await Task.WhenAll(Enumerable.Range(first, count).Select(async i =>
        {
            var plan = CrashFlowMix.PlanFor(_seed, i);
            var input = plan.Input(_seed, 0, i);
            var result = await Store.CreateRunAsync(NewRuns.For(_flows[plan.Name], input, CrashFlowMix.RecoveryId(0, i)), CancellationToken.None);
            Assert.True(result.Created, $"run {i} already existed");
            return new LoadRun(result.Run.Id, plan, input);
        }));
        _runs.AddRange(created);
        return created;
    }

    /// <summary>Waits until <paramref name="run"/> has finished, whatever its outcome.</summary>
    public async Task WaitUntilFinishedAsync(LoadRun run, TimeSpan timeout) => await WaitAsync(run, timeout);

    /// <summary>
    /// Waits, all within <paramref name="timeout"/>, until each of <paramref name="runs"/> (default: every run) has finished,
    /// and asserts that each completed with the state its plan computes.
    /// </summary>
    public async Task AssertCompletedAsync(TimeSpan timeout, IEnumerable<LoadRun>? runs = null)
    {
        var clock = Stopwatch.StartNew();
        foreach (var run in runs ?? _runs)
        {
            var outcome = await WaitAsync(run, timeout - clock.Elapsed);
            Assert.True(outcome.Status == RunStatus.Completed, $"run {run.Id} ({run.Plan.Name}) ended {outcome.Status}: {outcome.Error}");
            var expected = run.Plan.Expected(run.Input);
            Assert.Equal(expected.Trail, outcome.Result!.Trail);
            Assert.Equal(expected.Counter, outcome.Result.Counter);
            Assert.Equal(expected.Digest, outcome.Result.Digest);
        }
    }

    /// <summary>See <see cref="StoreWaits.AssertNoCommittedStageRanAgain"/>: over every run of the load.</summary>
    public void AssertNoCommittedStageRanAgain(IEnumerable<string> journals) =>
        StoreWaits.AssertNoCommittedStageRanAgain(_runs.ToDictionary(r => r.Id.Value, r => r.Plan), journals);

    public async ValueTask DisposeAsync() => await Observer.DisposeAsync();

    private async Task<RunOutcome<CrashState>> WaitAsync(LoadRun run, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero);
        try
        {
            return await Observer.WaitForRunAsync(_flows[run.Plan.Name], run.Id, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"run {run.Id} ({run.Plan.Name}) did not finish in time. {await DescribeAsync(run)}");
        }
    }

    // What a timeout reports: where the run is, its history, and where the others are.
    private async Task<string> DescribeAsync(LoadRun run)
    {
        var record = await Store.GetRunAsync(run.Id, CancellationToken.None);
        var events = await Store.GetEventsAsync(run.Id, CancellationToken.None);
        var all = await Store.ListRunsAsync(new RunQuery { Limit = _runs.Count + 1 }, CancellationToken.None);
        var counts = all.GroupBy(r => (r.Status, r.Owner)).OrderBy(g => g.Key.Status).Select(g => $"{g.Key.Status}/{g.Key.Owner ?? "-"}: {g.Count()}");
        return $"It is {record}.\nIts events:\n{string.Join('\n', events)}\nAll runs by status and owner: {string.Join(", ", counts)}";
    }
}

/// <summary>A run of a <see cref="NodeLoad"/>: its ID, the plan of its flow and its input.</summary>
internal sealed record LoadRun(RunId Id, CrashFlowPlan Plan, CrashState Input);
