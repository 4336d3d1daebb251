using System.Globalization;
using Cronos;

namespace Cairn.Schedules;

/// <summary>
/// When a schedule's slots fall: a cron expression in a time zone (<see cref="Cron"/>, computed by Cronos, daylight-saving
/// changes included) or a fixed interval from an anchor (<see cref="Every"/>). Immutable.
/// </summary>
public sealed class ScheduleSpec : IEquatable<ScheduleSpec>
{
    private CronExpression? _cron;

    private ScheduleSpec()
    {
    }

    /// <summary>The cron expression (5 fields, or 6 with seconds first); null for an interval.</summary>
    public string? Expression { get; private init; }

    /// <summary>The time zone the cron expression is read in; null for an interval.</summary>
    public TimeZoneInfo? TimeZone { get; private init; }

    /// <summary>The interval between slots; zero for a cron expression.</summary>
    public TimeSpan Interval { get; private init; }

    /// <summary>The time an interval's slots count from: slots fall at <c>Anchor + n * Interval</c>.</summary>
    public DateTimeOffset Anchor { get; private init; }

    /// <summary>Slots at the times a cron expression names, read in <paramref name="timeZone"/> (an IANA or Windows ID; default UTC).</summary>
    /// <param name="expression">Five fields (<c>0 2 * * *</c>: 02:00 every day), or six with seconds first.</param>
    /// <param name="timeZone">The time zone's ID, such as <c>Europe/Berlin</c>; null for UTC.</param>
    /// <exception cref="ArgumentException">The expression cannot be read, or the time zone is unknown; the message says which.</exception>
    public static ScheduleSpec Cron(string expression, string? timeZone = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        var trimmed = expression.Trim();
        CronExpression cron;
        try
        {
            cron = CronExpression.Parse(trimmed, trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            throw new ArgumentException($"The cron expression '{trimmed}' cannot be read: {ex.Message}", nameof(expression), ex);
        }

        TimeZoneInfo zone;
        try
        {
            zone = timeZone is null ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ArgumentException($"The time zone '{timeZone}' of cron expression '{trimmed}' is unknown on this machine.", nameof(timeZone), ex);
        }

        return new ScheduleSpec { Expression = trimmed, _cron = cron, TimeZone = zone };
    }

    /// <summary>Slots every <paramref name="interval"/>, counted from <paramref name="anchor"/> (default: the Unix epoch, so 1 h falls on the hour).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The interval is less than one second.</exception>
    public static ScheduleSpec Every(TimeSpan interval, DateTimeOffset? anchor = null)
    {
        if (interval < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "A schedule's interval must be at least one second.");
        }

        return new ScheduleSpec { Interval = interval, Anchor = (anchor ?? DateTimeOffset.UnixEpoch).ToUniversalTime() };
    }

    /// <summary>The first slot strictly after <paramref name="time"/>; null when a cron expression has none (such as 30 February).</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset time)
    {
        if (_cron is not null)
        {
            return _cron.GetNextOccurrence(time, TimeZone!, inclusive: false);
        }

        var elapsed = time - Anchor;
        var steps = elapsed < TimeSpan.Zero ? 0 : (elapsed.Ticks / Interval.Ticks) + 1;
        var next = Anchor + TimeSpan.FromTicks(steps * Interval.Ticks);
        return next > time ? next : next + Interval;
    }

    /// <summary>How the store keeps it: <c>cron 0 2 * * * @ Europe/Berlin</c> or <c>every 00:15:00 from 1970-01-01T00:00:00.0000000+00:00</c>.</summary>
    public override string ToString() => _cron is not null
        ? $"cron {Expression} @ {TimeZone!.Id}"
        : string.Create(CultureInfo.InvariantCulture, $"every {Interval:c} from {Anchor:O}");

    /// <summary>Reads what <see cref="ToString"/> wrote.</summary>
    /// <exception cref="FormatException">The text is no schedule.</exception>
    public static ScheduleSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            if (text.StartsWith("cron ", StringComparison.Ordinal) && text.LastIndexOf(" @ ", StringComparison.Ordinal) is > 5 and var at)
            {
                return Cron(text[5..at], text[(at + 3)..]);
            }

            if (text.StartsWith("every ", StringComparison.Ordinal) && text.IndexOf(" from ", StringComparison.Ordinal) is > 6 and var from)
            {
                return Every(
                    TimeSpan.ParseExact(text[6..from], "c", CultureInfo.InvariantCulture),
                    DateTimeOffset.ParseExact(text[(from + 6)..], "O", CultureInfo.InvariantCulture));
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            throw new FormatException($"'{text}' is not a schedule: {ex.Message}", ex);
        }

        throw new FormatException($"'{text}' is not a schedule: expected 'cron EXPRESSION @ TIMEZONE' or 'every INTERVAL from TIME'.");
    }

    /// <inheritdoc />
    public bool Equals(ScheduleSpec? other) => other is not null && ToString() == other.ToString();

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ScheduleSpec);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());
}
