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

    /// <summary>How many segments the path has.</summary>
    public int Count => _segments?.Length ?? 0;

    /// <summary>The segment at <paramref name="index"/>, from the outermost sequence inwards.</summary>
    /// <exception cref="IndexOutOfRangeException">The path has no such segment.</exception>
    public int this[int index] => (_segments ?? [])[index];

    /// <summary>The position that holds this one: the path without its last segment (the start for a top-level position).</summary>
    public FlowPath Parent => Count <= 1 ? Start : Slice(0, Count - 1);

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

    /// <summary>The path with <paramref name="segment"/> added at its end: a step of the sequence it leads to, or a lane of its step.</summary>
    public FlowPath Append(int segment)
    {
        var segments = new int[Count + 1];
        _segments?.CopyTo(segments, 0);
        segments[^1] = segment;
        return new FlowPath(segments);
    }

    /// <summary>The path with a lane and a step index added at its end, in one array: a step inside a composite step's body.</summary>
    internal FlowPath Append(int lane, int index)
    {
        var segments = new int[Count + 2];
        _segments?.CopyTo(segments, 0);
        segments[^2] = lane;
        segments[^1] = index;
        return new FlowPath(segments);
    }

    /// <summary>
    /// The segments from <paramref name="start"/> on, <paramref name="length"/> of them (what <c>path[1..]</c> and
    /// <c>path[..^1]</c> mean): where a path leads inside the sequence its first segments lead to, or the step holding a lane.
    /// </summary>
    internal FlowPath Slice(int start, int length) => length == 0 ? Start : new FlowPath(_segments.AsSpan(start, length).ToArray());

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
    public bool Equals(FlowPath other) => _segments.AsSpan().SequenceEqual(other._segments.AsSpan());

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var segment in _segments.AsSpan())
        {
            hash.Add(segment);
        }

        return hash.ToHashCode();
    }

    /// <summary>The stored form: indexes separated by '/', empty for the start.</summary>
    public override string ToString() => _segments is null ? "" : string.Join('/', _segments);
}
