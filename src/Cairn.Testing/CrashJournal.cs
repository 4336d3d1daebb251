using System.Collections;

namespace Cairn.Testing;

/// <summary>
/// The stage executions of one crash case, in the order they started: those of the attempt that crashed, then those of
/// the resume; child runs of detached sub-flows included. With ready-made checks.
/// </summary>
public sealed class CrashJournal : IReadOnlyList<StageExecution>
{
    private readonly IReadOnlyList<StageExecution> _executions;

    internal CrashJournal(IReadOnlyList<StageExecution> executions) => _executions = executions;

    /// <inheritdoc/>
    public int Count => _executions.Count;

    /// <inheritdoc/>
    public StageExecution this[int index] => _executions[index];

    /// <summary>The executions of the stage named <paramref name="stage"/>, in every run and iteration.</summary>
    public IReadOnlyList<StageExecution> Of(string stage) => [.. _executions.Where(e => e.Stage == stage)];

    /// <summary>
    /// Checks the engine's guarantee: no stage ran again after a checkpoint that covers it committed (a recovery point
    /// after it, around it, or its branch finishing).
    /// </summary>
    /// <exception cref="CrashCheckException">A stage ran again; the message names each and the attempts.</exception>
    public void AssertNoCommittedStageRepeated()
    {
        var problems = new List<string>();
        foreach (var group in GroupByPlace())
        {
            var executions = group.ToList();
            for (var i = 0; i < executions.Count - 1; i++)
            {
                if (executions[i].CheckpointCommitted)
                {
                    problems.Add($"{executions[i]} was covered by a committed checkpoint and ran again on attempt {executions[i + 1].Attempt}");
                    break;
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new CrashCheckException($"A stage before a committed recovery point ran again: {string.Join("; ", problems)}.");
        }
    }

    /// <summary>
    /// Checks that the stage named <paramref name="stage"/> ran exactly once in each run and iteration it ran in, crash
    /// and resume together: what a stage with an outside effect that is not idempotent needs.
    /// </summary>
    /// <exception cref="CrashCheckException">The stage never ran, or ran more than once somewhere.</exception>
    public void AssertRanOnce(string stage)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        if (!_executions.Any(e => e.Stage == stage))
        {
            throw new CrashCheckException($"Stage '{stage}' never ran.");
        }

        var repeated = GroupByPlace().Where(g => g.Key.Stage == stage && g.Count() > 1).ToList();
        if (repeated.Count > 0)
        {
            var which = repeated.Select(g => $"{g.First()} ran {g.Count()} times (attempts {string.Join(", ", g.Select(e => e.Attempt))})");
            throw new CrashCheckException(
                $"Stage '{stage}' ran more than once: {string.Join("; ", which)}. No committed recovery point covered it before the crash, so the " +
                "resumed run ran it again: make it idempotent (ctx.IdempotencyKey, ctx.Recovery) or put a recovery point right after it.");
        }
    }

    /// <inheritdoc/>
    public IEnumerator<StageExecution> GetEnumerator() => _executions.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>One line per execution.</summary>
    public override string ToString() => string.Join(Environment.NewLine, _executions);

    private IEnumerable<IGrouping<(string Run, string Stage, string Iterations, string Branch), StageExecution>> GroupByPlace() =>
        _executions.GroupBy(e => (e.Run, e.Stage, string.Join('/', e.Iterations), e.Branch));
}
