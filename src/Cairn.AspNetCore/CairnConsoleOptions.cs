namespace Cairn.AspNetCore;

/// <summary>
/// How the operator console's REST API (<c>MapCairnConsole</c>) is secured and what it shows. Validated when the host
/// starts (<c>AddCairnConsole</c>).
/// </summary>
/// <remarks>
/// With neither <see cref="ViewerPolicy"/> nor <see cref="OperatorPolicy"/> set, and no <c>RequireAuthorization</c> on
/// the group <c>MapCairnConsole</c> returns, the console answers loopback requests only. Once either policy is set,
/// every request needs authorization (loopback too): reads the viewer policy, writes the operator policy; the one not
/// set defaults to <see cref="CairnConsoleDefaults.ViewerPolicy"/> or <see cref="CairnConsoleDefaults.OperatorPolicy"/>.
/// A policy the host sets on the group replaces both.
/// </remarks>
public sealed class CairnConsoleOptions
{
    /// <summary>
    /// The authorization policy that reads (lists, run detail, outbox, summary) need. Default null. Set it to
    /// <see cref="CairnConsoleDefaults.ViewerPolicy"/> for the built-in policy: role <c>cairn-viewer</c> or <c>cairn-operator</c>.
    /// </summary>
    public string? ViewerPolicy { get; set; }

    /// <summary>
    /// The authorization policy that writes (re-run, cancel, bulk actions, purge, re-drive) need. Default null. Set it to
    /// <see cref="CairnConsoleDefaults.OperatorPolicy"/> for the built-in policy: role <c>cairn-operator</c>.
    /// </summary>
    public string? OperatorPolicy { get; set; }

    /// <summary>Whether the run detail shows the latest checkpoint's state and the result. Default true.</summary>
    public bool ShowState { get; set; } = true;

    /// <summary>
    /// Names of JSON properties (any depth, case-insensitive) whose values the run detail replaces by <c>"***"</c>. A state
    /// that is not JSON is then not shown at all. Default: none.
    /// </summary>
    public ISet<string> RedactedStateProperties { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The most bytes of a state or result the run detail shows; a longer one is cut and marked truncated. Default 65,536.</summary>
    public int MaxStateBytes { get; set; } = 64 * 1024;

    /// <summary>The most runs one bulk re-run or bulk cancel acts on; more matching runs are refused with 400. Default 10,000.</summary>
    public int MaxBulkRuns { get; set; } = 10_000;

    /// <summary>Whether authorization is configured by the options (either policy set).</summary>
    internal bool UsesPolicies => ViewerPolicy is not null || OperatorPolicy is not null;

    internal string ReadPolicy => ViewerPolicy ?? CairnConsoleDefaults.ViewerPolicy;

    internal string WritePolicy => OperatorPolicy ?? CairnConsoleDefaults.OperatorPolicy;

    internal IEnumerable<string> FindProblems()
    {
        if (ViewerPolicy is { } viewer && string.IsNullOrWhiteSpace(viewer))
        {
            yield return "CairnConsoleOptions.ViewerPolicy is empty: give a policy name, or leave it null";
        }

        if (OperatorPolicy is { } @operator && string.IsNullOrWhiteSpace(@operator))
        {
            yield return "CairnConsoleOptions.OperatorPolicy is empty: give a policy name, or leave it null";
        }

        if (MaxStateBytes < 0)
        {
            yield return $"CairnConsoleOptions.MaxStateBytes is {MaxStateBytes}: it must be 0 or more";
        }

        if (MaxBulkRuns is < 1 or > 1_000_000)
        {
            yield return $"CairnConsoleOptions.MaxBulkRuns is {MaxBulkRuns}: it must be between 1 and 1,000,000";
        }
    }
}
