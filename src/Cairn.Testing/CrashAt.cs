namespace Cairn.Testing;

/// <summary>Where <see cref="CrashKit.RunWithCrashAsync"/> crashes the run: a stage, a recovery point, or a boundary.</summary>
public sealed class CrashAt
{
    private readonly Func<CrashBoundary, bool> _matches;
    private readonly int _occurrence;
    private readonly string _description;

    private CrashAt(Func<CrashBoundary, bool> matches, int occurrence, string description)
    {
        _matches = matches;
        _occurrence = occurrence;
        _description = description;
    }

    /// <summary>Just before the stage named <paramref name="name"/> runs, the <paramref name="occurrence"/>-th time any run of the test starts it.</summary>
    public static CrashAt Stage(string name, int occurrence = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(occurrence, 1);
        return new(b => b.Kind == CrashBoundaryKind.BeforeStage && b.Name == name, occurrence, $"before stage '{name}'{Time(occurrence)}");
    }

    /// <summary>Just after the checkpoint of the recovery point named <paramref name="name"/> committed, the <paramref name="occurrence"/>-th time.</summary>
    public static CrashAt RecoveryPoint(string name, int occurrence = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(occurrence, 1);
        return new(b => b.Kind == CrashBoundaryKind.AfterCheckpoint && b.Name == name, occurrence, $"after recovery point '{name}'{Time(occurrence)}");
    }

    /// <summary>
    /// At the <paramref name="number"/>-th boundary (from 1) the runs pass, in the order they pass them. Parallel branches
    /// may pass theirs in another order from one run to the next; <see cref="At(CrashBoundary)"/> names one exactly.
    /// </summary>
    public static CrashAt Boundary(int number)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        return new(b => b.Number == number, 1, $"at boundary #{number}");
    }

    /// <summary>At the same place as <paramref name="boundary"/>, one a crash-free run passed (see <see cref="CrashSweepReport.Boundaries"/>).</summary>
    public static CrashAt At(CrashBoundary boundary)
    {
        ArgumentNullException.ThrowIfNull(boundary);
        return new(boundary.IsSamePlace, 1, $"{boundary}");
    }

    /// <summary>Whether the crash falls on <paramref name="boundary"/>, given how many earlier boundaries matched.</summary>
    internal bool Matches(CrashBoundary boundary, ref int matched) => _matches(boundary) && ++matched == _occurrence;

    /// <inheritdoc/>
    public override string ToString() => _description;

    private static string Time(int occurrence) => occurrence == 1 ? "" : $" (time {occurrence})";
}
