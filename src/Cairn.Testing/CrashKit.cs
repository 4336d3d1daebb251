namespace Cairn.Testing;

/// <summary>
/// Crashes runs of a flow as if their process died, and resumes them on a new engine over the same store, as after a
/// restart: for a unit test (of any test framework) that checks a flow recovers. A crash keeps what the store holds and
/// loses the rest: the crashed attempt writes nothing more (no failure, no interruption, no checkpoint).
/// </summary>
/// <remarks>
/// Each engine is built from a new <see cref="CairnEngineBuilder"/> given to <c>configure</c>: add other flows, a store, a
/// clock or options there. Without a store, each case gets an <see cref="InMemoryRunStore"/> of its own, kept across
/// its engines (so is one made by <c>UseInMemoryStore()</c>); a file or database store is opened again by the resuming
/// engine. The kit sets the node name (unless configured), resumes interrupted runs at once, and, before a resume,
/// marks every run still running in the store as interrupted (the store is taken to be the test's alone).
/// </remarks>
/// <param name="configure">Configures each engine the kit builds; null for an in-memory store and default options.</param>
public sealed class CrashKit(Action<CairnEngineBuilder>? configure = null)
{
    /// <summary>How long, in wall-clock time, a run may take to crash, and then to end once resumed, before the kit gives up. Default 30 seconds.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Starts a run of <paramref name="flow"/>, crashes it at <paramref name="at"/>, resumes it on a new engine over the
    /// same store, and returns its outcome with the journal of stage executions. When the run never reaches
    /// <paramref name="at"/>, it runs to its end and the case says it did not crash.
    /// </summary>
    /// <exception cref="TimeoutException">The run neither crashed nor ended, or did not end after the resume, within <see cref="Timeout"/>.</exception>
    public async Task<CrashCase<TState>> RunWithCrashAsync<TState>(Flow<TState> flow, TState input, CrashAt at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(at);
        return (await RunCaseAsync(flow, input, at, cancellationToken).ConfigureAwait(false)).Case;
    }

    /// <summary>
    /// Runs <paramref name="flow"/> once without a crash to find its boundaries (before each stage, after each committed
    /// checkpoint, in loops, branches, parallel branches and child runs alike), then once per boundary with a crash there
    /// and a resume, handing each case to <paramref name="assert"/>. Every case runs even when one fails.
    /// </summary>
    /// <param name="flow">The flow.</param>
    /// <param name="input">The input of every run.</param>
    /// <param name="assert">Checks a case; throws (any exception, of any test framework) when it is wrong.</param>
    /// <param name="cancellationToken">Cancels the sweep.</param>
    /// <exception cref="CrashSweepException">A case's assertion threw, or a run never reached its boundary; the message lists each case.</exception>
    /// <exception cref="CrashCheckException">The crash-free run did not complete.</exception>
    public async Task<CrashSweepReport> SweepAsync<TState>(Flow<TState> flow, TState input, Action<CrashCase<TState>> assert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(assert);
        var (crashFree, boundaries) = await RunCaseAsync(flow, input, null, cancellationToken).ConfigureAwait(false);
        if (!crashFree.Outcome.IsCompleted)
        {
            throw new CrashCheckException($"The crash-free run of flow {flow} did not complete, so there is nothing to sweep: it ended {crashFree.Outcome.Status}: {crashFree.Outcome.Error}");
        }

        var failures = new List<(CrashBoundary, Exception)>();
        foreach (var boundary in boundaries)
        {
            var (crashCase, _) = await RunCaseAsync(flow, input, CrashAt.At(boundary), cancellationToken).ConfigureAwait(false);
            try
            {
                if (!crashCase.Crashed)
                {
                    throw new CrashCheckException("the run never reached this boundary: it took another path than the crash-free run (is the flow deterministic for this input?)");
                }

                assert(crashCase);
            }
#pragma warning disable CA1031 // Any exception of the user's assertion, whatever its test framework, is a failed case.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures.Add((boundary, ex));
            }
        }

        if (failures.Count > 0)
        {
            throw new CrashSweepException(flow.ToString(), boundaries.Count, failures);
        }

        return new CrashSweepReport(boundaries, boundaries.Count, crashFree.Journal);
    }

    private async Task<(CrashCase<TState> Case, IReadOnlyList<CrashBoundary> Boundaries)> RunCaseAsync<TState>(
        Flow<TState> flow, TState input, CrashAt? target, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(Timeout, TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        var recoveryId = $"crash-kit-{Guid.NewGuid():N}";
        var recorder = new CaseRecorder(recoveryId);
        InMemoryRunStore? caseStore = null;
        var first = new CrashObserver(recorder, target);
        var engine = Build(flow, first, b => b.UseStore(context => caseStore ??= new InMemoryRunStore(context.TimeProvider)), keep: null);
        CrashBoundary? crashedAt = null;
        RunId runId;
        RunOutcome<TState>? outcome = null;
        try
        {
            runId = (await engine.StartRunAsync(flow, input, recoveryId, token).ConfigureAwait(false)).Id;
            using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(token);
            var finished = engine.WaitForRunAsync(flow, runId, stopWaiting.Token);
            try
            {
                await Task.WhenAny(first.Crashed, finished).WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Run {runId} of flow {flow} neither crashed {target} nor ended within {Timeout}.");
            }

            if (first.Crashed.IsCompleted)
            {
                crashedAt = await first.Crashed.ConfigureAwait(false);
                await stopWaiting.CancelAsync().ConfigureAwait(false);
                await finished.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
            else
            {
                outcome = await finished.ConfigureAwait(false);
            }
        }
        catch
        {
            await engine.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (outcome is null)
        {
            // The process is dead: its runs stay as the store has them until the next engine finds them interrupted.
            var store = engine.Store;
            await engine.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await store.InterruptAbandonedRunsAsync(engine.NodeName, exclusive: true, TimeSpan.Zero, token).ConfigureAwait(false);
            await engine.DisposeAsync().ConfigureAwait(false);
            engine = Build(flow, new CrashObserver(recorder, target: null), b => b.UseStore(context => caseStore ??= new InMemoryRunStore(context.TimeProvider)), store as InMemoryRunStore);
            try
            {
                await engine.StartAsync(token).ConfigureAwait(false);
                outcome = await engine.WaitForRunAsync(flow, runId, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                await engine.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException($"Run {runId} of flow {flow}, resumed after a crash {crashedAt}, did not end within {Timeout}.");
            }
            catch
            {
                await engine.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        try
        {
            var runs = new List<RunInfo>();
            foreach (var id in recorder.RunIds.Prepend(runId).Distinct())
            {
                if (await engine.Store.GetRunAsync(id, token).ConfigureAwait(false) is { } run)
                {
                    runs.Add(RunInfo.From(run));
                }
            }

            return (new CrashCase<TState>(target, crashedAt, outcome, runs, recorder.Journal()), recorder.Boundaries);
        }
        finally
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <param name="flow">The flow under test, registered with its child flows.</param>
    /// <param name="observer">The engine's observer.</param>
    /// <param name="useDefaultStore">Sets the case's in-memory store, unless <c>configure</c> sets another.</param>
    /// <param name="keep">The in-memory store of the crashed engine: memory that must outlive it.</param>
    private CairnEngine Build<TState>(Flow<TState> flow, CrashObserver observer, Action<CairnEngineBuilder> useDefaultStore, InMemoryRunStore? keep)
    {
        var builder = CairnEngine.CreateBuilder();
        useDefaultStore(builder);
        builder.AddFlow(flow);
        configure?.Invoke(builder);
        if (keep is not null)
        {
            builder.UseStore(keep);
        }

        builder.Options.NodeName ??= "crash-kit";
        builder.Options.ResumeInterruptedRuns = InterruptedRunResume.Immediately;
        builder.Options.AttemptObserver = observer;
        return builder.Build();
    }
}
