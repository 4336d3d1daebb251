namespace Cairn.Testing;

/// <summary>
/// What one crash case records across its engines: the boundaries passed, the stage executions and the checkpoints
/// that cover them, and a stable name per run.
/// </summary>
/// <param name="rootRecoveryId">The recovery ID of the run the kit started.</param>
internal sealed class CaseRecorder(string rootRecoveryId)
{
    private readonly object _lock = new();
    private readonly List<CrashBoundary> _boundaries = [];
    private readonly Dictionary<(CrashBoundaryKind, string, string, string, string), int> _passed = [];
    private readonly List<Entry> _executions = [];
    private readonly Dictionary<RunId, string> _runNames = [];

    public IReadOnlyList<CrashBoundary> Boundaries
    {
        get
        {
            lock (_lock)
            {
                return [.. _boundaries];
            }
        }
    }

    /// <summary>The runs seen, the kit's first.</summary>
    public IReadOnlyList<RunId> RunIds
    {
        get
        {
            lock (_lock)
            {
                return [.. _runNames.Keys];
            }
        }
    }

    public CrashBoundary Pass(CrashBoundaryKind kind, RunRecord run, string name, IReadOnlyList<int> iterations, string branch)
    {
        lock (_lock)
        {
            var runName = NameOf(run);
            var key = (kind, runName, name, string.Join('/', iterations), branch);
            var occurrence = _passed.GetValueOrDefault(key) + 1;
            _passed[key] = occurrence;
            var boundary = new CrashBoundary(_boundaries.Count + 1, kind, run.FlowName, runName, name, [.. iterations], branch, occurrence);
            _boundaries.Add(boundary);
            return boundary;
        }
    }

    public void Started(RunRecord run, string stage, IReadOnlyList<int> iterations, string branch)
    {
        lock (_lock)
        {
            _executions.Add(new Entry(run.FlowName, run.Id, NameOf(run), stage, [.. iterations], branch, run.Attempt));
        }
    }

    /// <summary>
    /// A checkpoint saved by the sequence at <paramref name="branch"/> committed: it covers the stages that ran there and
    /// in the sequences around it (whose place <paramref name="branch"/> ends with), not those of sibling branches.
    /// </summary>
    public void Committed(RunRecord run, string branch)
    {
        lock (_lock)
        {
            foreach (var entry in _executions)
            {
                if (entry.RunId == run.Id && entry.Attempt == run.Attempt && branch.EndsWith(entry.Branch, StringComparison.Ordinal))
                {
                    entry.Committed = true;
                }
            }
        }
    }

    public CrashJournal Journal()
    {
        lock (_lock)
        {
            return new CrashJournal([.. _executions.Select(e => new StageExecution(e.Flow, e.RunId, e.Run, e.Stage, e.Iterations, e.Branch, e.Attempt, e.Committed))]);
        }
    }

    /// <summary>
    /// The kit's run is named after its flow; a detached sub-flow's child (recovery ID <c>PARENT:STEP[:ITERATIONS]</c>)
    /// after its parent's name and the rest of its recovery ID, so that the names are the same from one case to the next.
    /// </summary>
    private string NameOf(RunRecord run)
    {
        if (_runNames.TryGetValue(run.Id, out var name))
        {
            return name;
        }

        var colon = run.RecoveryId.IndexOf(':', StringComparison.Ordinal);
        name = run.RecoveryId == rootRecoveryId ? run.FlowName
            : colon > 0 && RunId.TryParse(run.RecoveryId[..colon], out var parent) && _runNames.TryGetValue(parent, out var parentName)
                ? $"{parentName}/{run.RecoveryId[(colon + 1)..]}"
            : run.RecoveryId;
        _runNames[run.Id] = name;
        return name;
    }

    private sealed record Entry(string Flow, RunId RunId, string Run, string Stage, IReadOnlyList<int> Iterations, string Branch, int Attempt)
    {
        public bool Committed { get; set; }
    }
}
