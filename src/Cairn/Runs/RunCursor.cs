using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Cairn.Runs;

/// <summary>
/// Where a page of runs ended: the last run's creation time and ID, in the list's order (newest first). Its text form
/// (<see cref="ToString"/>, read back by <see cref="Parse"/>) is what tools hand back for the next page.
/// </summary>
/// <param name="CreatedAt">The creation time of the last run on the page.</param>
/// <param name="RunId">The ID of the last run on the page.</param>
public sealed record RunCursor(DateTimeOffset CreatedAt, RunId RunId)
{
    /// <summary>The cursor after <paramref name="run"/>.</summary>
    public static RunCursor After(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new RunCursor(run.CreatedAt, run.Id);
    }

    /// <summary>The text form: the creation time's UTC ticks and the run ID, such as <c>638000000000000000-0123…</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{CreatedAt.UtcTicks}-{RunId.Value:N}");

    /// <summary>Reads the text form written by <see cref="ToString"/>.</summary>
    /// <exception cref="FormatException">The text is not a cursor of a page of runs.</exception>
    public static RunCursor Parse(string text) =>
        TryParse(text, out var cursor) ? cursor : throw new FormatException($"'{text}' is not a cursor of a page of runs.");

    /// <summary>Reads the text form written by <see cref="ToString"/>; false when the text is not one.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out RunCursor? cursor)
    {
        cursor = null;
        var dash = text?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        if (dash > 0
            && long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks
            && Guid.TryParseExact(text.AsSpan(dash + 1), "N", out var id))
        {
            cursor = new RunCursor(new DateTimeOffset(ticks, TimeSpan.Zero), new RunId(id));
        }

        return cursor is not null;
    }
}
