using System.Diagnostics;
using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// Starts the soak's runs at a fixed rate, each created straight in the store (no engine here claims it) and, for a
/// <c>chaos-order</c> that gets a decision, signalled at once. A run whose creation or signal fails (the database is
/// restarting) is tried again with the same run ID, so that it is created once; the rate does not wait for it.
/// </summary>
internal sealed class LoadGenerator(RunStore store, int seed, double rate)
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(2);
    private readonly Dictionary<string, FlowDefinition> _flows = ChaosFlowMix.Flows(journal: null).ToDictionary(f => f.Name, StringComparer.Ordinal);
    private readonly RunOperator _operator = RunOperator.Create(store);
    private readonly List<ChaosRunPlan> _planned = [];
    private readonly Dictionary<int, string> _failures = [];

    /// <summary>The runs the generator began to create, in the order they were planned (a run that failed to be created may exist all the same).</summary>
    public IReadOnlyList<ChaosRunPlan> Planned
    {
        get
        {
            lock (_planned)
            {
                return [.. _planned.OrderBy(p => p.Index)];
            }
        }
    }

    /// <summary>By run index, why a run could not be created or signalled.</summary>
    public IReadOnlyDictionary<int, string> Failures
    {
        get
        {
            lock (_failures)
            {
                return new Dictionary<int, string>(_failures);
            }
        }
    }

    /// <summary>Starts runs until <paramref name="stop"/> is cancelled, then waits for those still being created.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var pending = new List<Task>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / rate));
        var index = 0;
        try
        {
            do
            {
                var plan = ChaosFlowMix.PlanFor(seed, index++);
                pending.Add(Task.Run(() => StartAsync(plan), CancellationToken.None));
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
            // The soak's load phase is over.
        }

        await Task.WhenAll(pending);
    }

    private async Task StartAsync(ChaosRunPlan plan)
    {
        var newRun = plan switch
        {
            { Linear: { } linear } => NewRuns.For((Flow<CrashState>)_flows[linear.Name], plan.LinearInput!, plan.RecoveryId),
            { Order: { } order } => NewRuns.For((Flow<ChaosOrder>)_flows[ChaosOrderFlow.Name], order, plan.RecoveryId),
            _ => NewRuns.For((Flow<ChaosBatch>)_flows[ChaosBatchFlow.Name], plan.Batch!, plan.RecoveryId),
        };
        lock (_planned)
        {
            _planned.Add(plan);
        }

        if (!await PersistAsync(plan, "create", () => store.CreateRunAsync(newRun, CancellationToken.None)))
        {
            return;
        }

        if (plan.Order is { Decision: "approve" or "decline" } decided)
        {
            await PersistAsync(plan, "signal", () => _operator.SignalAsync(newRun.Id, "decision", new ChaosDecision(decided.Decision == "approve"), signalId: "decision"));
        }
    }

    /// <summary>
    /// Does <paramref name="write"/> until it succeeds (it is idempotent) or fails for a reason retrying cannot mend (a
    /// signal for a run that finished without it, its wait having timed out); false if it never succeeded.
    /// </summary>
    private async Task<bool> PersistAsync<T>(ChaosRunPlan plan, string what, Func<Task<T>> write)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await write();
                return true;
            }
            catch (Exception ex) when (clock.Elapsed < GiveUpAfter && ex is not (RecoveryIdConflictException or InvalidRunStateException or RunNotFoundException))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
            catch (Exception ex)
            {
                lock (_failures)
                {
                    _failures[plan.Index] = $"{plan.RecoveryId} ({plan.Flow}): could not {what} it: {ex.GetType().Name}: {ex.Message}";
                }

                return false;
            }
        }
    }
}
