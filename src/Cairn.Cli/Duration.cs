using System.Globalization;

namespace Cairn.Cli;

/// <summary>Parses durations written as 7d, 12h, 30m or 45s.</summary>
internal static class Duration
{
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length >= 2
            && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && value >= 0)
        {
            switch (text[^1])
            {
                case 'd': return TimeSpan.FromDays(value);
                case 'h': return TimeSpan.FromHours(value);
                case 'm': return TimeSpan.FromMinutes(value);
                case 's': return TimeSpan.FromSeconds(value);
            }
        }

        throw new FormatException($"'{text}' is not a duration: write a number followed by d, h, m or s (for example 7d).");
    }
}
