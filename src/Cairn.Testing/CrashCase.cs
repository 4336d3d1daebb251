namespace Cairn.Testing;

/// <summary>
/// One crash and its resume: where the run crashed, its outcome once resumed, the runs involved, and the journal of
/// stage executions.
/// </summary>
/// <typeparam name="TState">The flow's state.</typeparam>
public sealed class CrashCase<TState>
{
    internal CrashCase(CrashAt? target, CrashBoundary? crashedAt, RunOutcome<TState> outcome, IReadOnlyList<RunInfo> runs, CrashJournal journal)
    {
        Target = target;
        CrashedAt = crashedAt;
        Outcome = outcome;
        Runs = runs;
        Journal = journal;
    }

    /// <summary>Where the crash was asked for; null for a crash-free run.</summary>
    public CrashAt? Target { get; }

    /// <summary>Where the run crashed; null when it never reached <see cref="Target"/> (and ran to its end without a crash).</summary>
    public CrashBoundary? CrashedAt { get; }

    /// <summary>Whether the run crashed (and was resumed).</summary>
    public bool Crashed => CrashedAt is not null;

    /// <summary>The outcome of the run the kit started, after the resume.</summary>
    public RunOutcome<TState> Outcome { get; }

    /// <summary>The final state: the run's result; default when it did not complete.</summary>
    public TState? State => Outcome.Result;

    /// <summary>Every run of the case as it ended: the run the kit started, and the child runs of its detached sub-flows.</summary>
    public IReadOnlyList<RunInfo> Runs { get; }

    /// <summary>The stage executions of the crashed attempt and of the resume.</summary>
    public CrashJournal Journal { get; }

    /// <summary>Checks that every run of the case completed (<see cref="Runs"/>).</summary>
    /// <exception cref="CrashCheckException">A run ended otherwise; the message gives its status and error.</exception>
    public void AssertCompleted()
    {
        var notCompleted = Runs.Where(r => r.Status != RunStatus.Completed).ToList();
        if (!Outcome.IsCompleted && notCompleted.All(r => r.Id != Outcome.RunId))
        {
            throw new CrashCheckException($"Run {Outcome.RunId} ended {Outcome.Status}: {Outcome.Error}");
        }

        if (notCompleted.Count > 0)
        {
            throw new CrashCheckException(
                $"Not every run completed: {string.Join("; ", notCompleted.Select(r => $"run {r.Id} of flow '{r.FlowName}' ended {r.Status}{(r.LastError is null ? "" : $": {r.LastError}")}"))}.");
        }
    }

    /// <summary>The usual checks at once: every run completed, and no stage before a committed recovery point ran twice.</summary>
    /// <exception cref="CrashCheckException">A check failed.</exception>
    public void AssertRecovered()
    {
        AssertCompleted();
        Journal.AssertNoCommittedStageRepeated();
    }

    /// <summary>Reads as <c>crash #3 before stage 'charge' in run 'purchase': Completed</c>.</summary>
    public override string ToString() =>
        $"{(CrashedAt is { } at ? $"crash {at}" : Target is null ? "no crash" : $"no crash ({Target} was not reached)")}: {Outcome.Status}";
}
