namespace Cairn.Testing;

/// <summary>One or more cases of a crash sweep failed: the assertion threw, or the run took another path and never reached its boundary.</summary>
public sealed class CrashSweepException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CrashSweepException()
        : this("A crash sweep failed.")
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public CrashSweepException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public CrashSweepException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Failures = [];
    }

    internal CrashSweepException(string flow, int cases, IReadOnlyList<(CrashBoundary Boundary, Exception Error)> failures)
        : base(Describe(flow, cases, failures), failures.Count == 1 ? failures[0].Error : new AggregateException(failures.Select(f => f.Error)))
    {
        Failures = failures;
    }

    /// <summary>The failed cases: where the run crashed, and what the assertion threw.</summary>
    public IReadOnlyList<(CrashBoundary Boundary, Exception Error)> Failures { get; }

    private static string Describe(string flow, int cases, IReadOnlyList<(CrashBoundary Boundary, Exception Error)> failures) =>
        $"{failures.Count} of {cases} crash case(s) of flow {flow} failed:" + string.Concat(
            failures.Select(f => $"{Environment.NewLine}  crash {f.Boundary}: {f.Error.GetType().Name}: {f.Error.Message}"));
}
