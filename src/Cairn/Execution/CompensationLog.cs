using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.Execution;

/// <summary>
/// What a run records of its compensations, saved with every checkpoint (<see cref="Checkpoint.Compensation"/>): the
/// stages with a compensation that completed, in order, with the iterations of the loops around them; and, once the
/// run undoes them, that it does and why. A compensation recorded as done is taken off the list in the checkpoint that
/// follows it, so it never runs twice.
/// </summary>
internal sealed class CompensationLog
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly Lock _lock = new();
    private readonly List<Entry> _entries;

    private CompensationLog(List<Entry> entries, bool undoing, string? reason)
    {
        _entries = entries;
        Undoing = undoing;
        Reason = reason;
    }

    /// <summary>Whether the run is undoing its stages rather than going forward.</summary>
    public bool Undoing { get; private set; }

    /// <summary>Why the run undoes its stages: the error that failed it, or the operator's request.</summary>
    public string? Reason { get; private set; }

    /// <summary>The completed stages still to undo, in the order they completed.</summary>
    public IReadOnlyList<Entry> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>An empty log, for a run that has completed no stage with a compensation.</summary>
    public static CompensationLog Empty() => new([], undoing: false, reason: null);

    /// <summary>Reads the log a checkpoint saved; null or empty text is an empty log.</summary>
    /// <exception cref="FormatException">The text is not a compensation log.</exception>
    public static CompensationLog Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Empty();
        }

        try
        {
            var saved = JsonSerializer.Deserialize<Saved>(text, Json) ?? throw new FormatException("it is JSON null");
            var done = saved.Done ?? [];
            if (done.FindIndex(e => e?.Stage is null || e.Iterations is null) is var bad and >= 0)
            {
                // JSON leaves out what is missing: an entry without its stage or iterations would fail later, far from here.
                throw new FormatException($"the compensation log '{text}' is not readable: its entry {bad} lacks its stage or its iterations");
            }

            return new CompensationLog([.. done], saved.Undoing, saved.Reason);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the compensation log '{text}' is not readable: {ex.Message}", ex);
        }
    }

    /// <summary>Records that a stage with a compensation completed.</summary>
    public void Record(string stage, IReadOnlyList<int> iterations)
    {
        lock (_lock)
        {
            _entries.Add(new Entry(stage, [.. iterations]));
        }
    }

    /// <summary>Turns the run to undoing its stages.</summary>
    public void StartUndoing(string reason)
    {
        Undoing = true;
        Reason = reason;
    }

    /// <summary>Takes a compensation off the list once it ran.</summary>
    public void Undone(Entry entry)
    {
        lock (_lock)
        {
            _entries.Remove(entry);
        }
    }

    /// <summary>The text a checkpoint saves: null when there is nothing to undo and the run goes forward.</summary>
    public string? ToText()
    {
        lock (_lock)
        {
            return _entries.Count == 0 && !Undoing ? null : JsonSerializer.Serialize(new Saved([.. _entries], Undoing, Reason), Json);
        }
    }

    /// <summary>One completed stage: its name and the iterations of the loops around it, outermost first.</summary>
    public sealed record Entry(string Stage, int[] Iterations)
    {
        public bool Equals(Entry? other) => other is not null && Stage == other.Stage && Iterations.AsSpan().SequenceEqual(other.Iterations);

        public override int GetHashCode() => HashCode.Combine(Stage, Iterations.Length);

        /// <summary>How messages name it: <c>stage 'reserve-stock'</c>, <c>stage 'charge' (iteration 2)</c>.</summary>
        public override string ToString() =>
            Iterations.Length == 0 ? $"stage '{Stage}'" : $"stage '{Stage}' (iteration {string.Join('/', Iterations)})";
    }

    private sealed record Saved(List<Entry>? Done, bool Undoing, string? Reason);
}
