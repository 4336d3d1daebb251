using System.Diagnostics;
using Microsoft.Extensions.Logging.Testing;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Xunit.Abstractions;

namespace Cairn.Tests.Support;

/// <summary>
/// The base of the engine tests: one in-memory store and one fake clock per test (xUnit creates an instance per test).
/// Engines and gates made here are cleaned up after the test, so a failing test cannot leave a stage waiting forever.
/// </summary>
public abstract class EngineTest(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>How long, in real time, a test waits for the engine before it fails instead of hanging.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly List<CairnEngine> _engines = [];
    private readonly List<TaskCompletionSource> _gates = [];

    protected static CancellationToken Ct => CancellationToken.None;

    protected FakeTimeProvider Time { get; } = new();

    protected InMemoryRunStore Store => field ??= new InMemoryRunStore(Time);

    protected StageCounter Counter { get; } = new();

    /// <summary>Every log record of the engines made by <see cref="CreateEngine"/>.</summary>
    protected FakeLogCollector Logs { get; } = new();

    protected ITestOutputHelper Output { get; } = output;

    /// <summary>Builds an engine on the test's store and clock, with no scheduled purge unless <paramref name="configure"/> sets one.</summary>
    protected CairnEngine CreateEngine(FlowDefinition flow, Action<CairnOptions>? configure = null, Action<CairnEngineBuilder>? build = null)
    {
        var builder = CairnEngine.CreateBuilder();
        build?.Invoke(builder);
        var engine = builder
            .UseStore(Store)
            .UseTimeProvider(Time)
            .UseLoggerFactory(new TestLoggerFactory(Output, Logs))
            .Configure(o =>
            {
                o.RetentionPeriod = null;
                configure?.Invoke(o);
            })
            .AddFlow(flow)
            .Build();
        _engines.Add(engine);
        return engine;
    }

    /// <summary>A signal a stage awaits or completes; continuations never run inline on the thread that completes it.</summary>
    protected TaskCompletionSource NewGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _gates.Add(gate);
        return gate;
    }

    /// <summary>Waits until the run satisfies <paramref name="until"/>, failing after <see cref="Timeout"/> of real time.</summary>
    protected async Task<RunRecord> WaitForAsync(CairnEngine engine, RunId runId, Func<RunRecord, bool> until, string what)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            return await engine.WaitForAsync(runId, until, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            var run = await Store.GetRunAsync(runId, Ct);
            throw new TimeoutException($"Run {runId} did not become {what} within {Timeout}; it is {run?.Status}, last error: {run?.LastError}");
        }
    }

    protected Task<RunRecord> WaitForStatusAsync(CairnEngine engine, RunId runId, RunStatus status) =>
        WaitForAsync(engine, runId, r => r.Status == status, status.ToString());

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after <see cref="Timeout"/> of real time.</summary>
    protected static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"the condition did not hold within {Timeout}");
            await Task.Delay(10);
        }
    }

    /// <summary>Awaits a task that the engine should complete soon, failing after <see cref="Timeout"/> of real time.</summary>
    protected static Task<T> Within<T>(Task<T> task) => task.WaitAsync(Timeout);

    /// <inheritdoc cref="Within{T}(Task{T})" />
    protected static Task Within(Task task) => task.WaitAsync(Timeout);

    protected async Task<RunRecord> GetRunAsync(RunId runId) =>
        await Store.GetRunAsync(runId, Ct) ?? throw new InvalidOperationException($"Run {runId} does not exist.");

    protected Task<IReadOnlyList<RunEvent>> GetEventsAsync(RunId runId) => Store.GetEventsAsync(runId, Ct);

    /// <summary>
    /// Moves the clock and then wakes the engine's claim loop, so that a run due at the new time is claimed at exactly that
    /// time (the loop's own polls fire on a grid that need not fall on it).
    /// </summary>
    protected void AdvanceAndWake(CairnEngine engine, TimeSpan by)
    {
        Time.Advance(by);
        engine.Wake();
    }

    /// <summary>
    /// Moves the clock by <paramref name="step"/> until <paramref name="done"/> holds. For waits on a timer the engine arms
    /// at a moment the test cannot observe (the shutdown timeout, a heartbeat).
    /// </summary>
    protected async Task AdvanceUntilAsync(TimeSpan step, Func<bool> done, string what)
    {
        var started = Stopwatch.GetTimestamp();
        while (!done())
        {
            if (Stopwatch.GetElapsedTime(started) > Timeout)
            {
                throw new TimeoutException($"{what} did not happen within {Timeout} of real time (fake clock at {Time.GetUtcNow():O}).");
            }

            Time.Advance(step);
            await Task.Yield();
        }
    }

    /// <summary>Runs <paramref name="flow"/> on an engine of its own until the run fails for good, then stops that engine.</summary>
    protected async Task<RunOutcome<TState>> RunToFailureAsync<TState>(Flow<TState> flow, TState input, Action<CairnEngineBuilder>? build = null)
    {
        var engine = CreateEngine(flow, build: build);
        var outcome = await Within(engine.RunAsync(flow, input));
        await engine.DisposeAsync();
        Assert.Equal(RunStatus.Failed, outcome.Status);
        return outcome;
    }

    /// <summary>Re-runs a run on a new engine that knows <paramref name="flow"/> (a changed version, say) and waits for its outcome.</summary>
    protected async Task<RunOutcome<TState>> RerunOnAsync<TState>(Flow<TState> flow, RunId runId)
    {
        var engine = CreateEngine(flow);
        await engine.StartAsync();
        await engine.RerunAsync(runId);
        return await Within(engine.WaitForRunAsync(flow, runId));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var gate in _gates)
        {
            gate.TrySetResult();
        }

        foreach (var engine in _engines)
        {
            await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }
}
