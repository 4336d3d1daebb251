using System.Globalization;

namespace Cairn.Flows;

/// <summary>
/// A position inside a flow: the indexes of the steps from the outermost sequence inwards, written
/// <c>"3"</c> for the fourth top-level step. A path rather than a bare index, so that loops, branches
/// and sub-flows add segments without changing what is stored.
/// </summary>
public readonly record struct FlowPath
{
    private readonly int[]? _segments;

    private FlowPath(int[] segments) => _segments = segments;

    /// <summary>The step indexes from the outermost sequence inwards.</summary>
    public IReadOnlyList<int> Segments => _segments ?? [];

    /// <summary>Whether the path is empty (the start of the flow).</summary>
    public bool IsStart => _segments is null || _segments.Length == 0;

    /// <summary>
    /// The lane of a position inside a parallel step or inline sub-flow, whose branches run side by side: the state saved
    /// there is an envelope holding every branch's state.
    /// </summary>
    internal const int EnvelopeLane = -1;

    /// <summary>Whether the position ends inside a parallel step or inline sub-flow, whose checkpoints hold the states of all its branches.</summary>
    public bool HoldsBranchStates => _segments is { Length: > 0 } s && s[^1] == EnvelopeLane;

    /// <summary>The start of the flow: before the first step.</summary>
    public static FlowPath Start => default;

    /// <summary>A top-level position.</summary>
    public static FlowPath Of(params int[] segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        return new FlowPath([.. segments]);
    }

    /// <summary>Parses the stored form written by <see cref="ToString"/>.</summary>
    /// <exception cref="FormatException">The text is not a flow path.</exception>
    public static FlowPath Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            return Start;
        }

        var parts = text.Split('/');
        var segments = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out segments[i]))
            {
                throw new FormatException($"'{text}' is not a flow path (expected step indexes separated by '/').");
            }
        }

        return new FlowPath(segments);
    }

    /// <summary>Whether two paths name the same position.</summary>
    public bool Equals(FlowPath other) => Segments.SequenceEqual(other.Segments);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var segment in Segments)
        {
            hash.Add(segment);
        }

        return hash.ToHashCode();
    }

    /// <summary>The stored form: indexes separated by '/', empty for the start.</summary>
    public override string ToString() => string.Join('/', Segments);
}
