namespace Cairn.Testing;

/// <summary>
/// The crash kit's view of one engine: it records boundaries and stage executions in the case's journal, and crashes
/// the engine at the target boundary. Once crashed, every boundary and checkpoint of that engine throws, as nothing
/// runs in a dead process.
/// </summary>
internal sealed class CrashObserver(CaseRecorder recorder, CrashAt? target) : IAttemptObserver
{
    private readonly TaskCompletionSource<CrashBoundary> _crashed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _matched;
    private volatile bool _hasCrashed;

    public bool HasCrashed => _hasCrashed;

    /// <summary>Completes with the boundary where the engine crashed.</summary>
    public Task<CrashBoundary> Crashed => _crashed.Task;

    public void BeforeStage(AttemptScope scope, string stage, IReadOnlyList<int> iterations, string branch)
    {
        ThrowIfCrashed();
        var boundary = recorder.Pass(CrashBoundaryKind.BeforeStage, scope.Run, stage, iterations, branch);
        CrashIfTarget(boundary);
        recorder.Started(scope.Run, stage, iterations, branch);
    }

    public void BeforeCheckpoint(RunRecord run) => ThrowIfCrashed();

    public void AfterCheckpoint(AttemptScope scope, string label, IReadOnlyList<int> iterations, string branch)
    {
        recorder.Committed(scope.Run, branch);
        ThrowIfCrashed();
        CrashIfTarget(recorder.Pass(CrashBoundaryKind.AfterCheckpoint, scope.Run, label, iterations, branch));
    }

    private void CrashIfTarget(CrashBoundary boundary)
    {
        if (target is null)
        {
            return;
        }

        bool hit;
        lock (_crashed)
        {
            hit = !_hasCrashed && target.Matches(boundary, ref _matched);
            if (hit)
            {
                _hasCrashed = true;
            }
        }

        if (hit)
        {
            _crashed.TrySetResult(boundary);
            throw new SimulatedCrashException($"simulated crash {boundary}");
        }
    }

    private void ThrowIfCrashed()
    {
        if (_hasCrashed)
        {
            throw new SimulatedCrashException("the engine crashed (simulated)");
        }
    }
}
