namespace Cairn.Runs;

/// <summary>Identifies one run of a flow.</summary>
/// <param name="Value">The underlying GUID.</param>
public readonly record struct RunId(Guid Value)
{
    /// <summary>Creates a new, time-ordered run ID.</summary>
    public static RunId New() => new(Guid.CreateVersion7());

    /// <summary>Parses a run ID written by <see cref="ToString"/> (32 hex digits, or a GUID with dashes).</summary>
    /// <exception cref="FormatException">The text is not a run ID.</exception>
    public static RunId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a run ID (expected 32 hex digits).");
    }

    /// <summary>Tries to parse a run ID written by <see cref="ToString"/>.</summary>
    public static bool TryParse(string? text, out RunId id)
    {
        if (Guid.TryParse(text, out var guid))
        {
            id = new RunId(guid);
            return true;
        }

        id = default;
        return false;
    }

    /// <summary>The run ID as 32 lower-case hex digits.</summary>
    public override string ToString() => Value.ToString("N");
}
