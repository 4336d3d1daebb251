namespace Cairn.Bench;

/// <summary>How the tables show numbers.</summary>
internal static class Format
{
    public static string Micros(double microseconds) => microseconds < 10_000
        ? string.Create(CultureInfo.InvariantCulture, $"{microseconds:N0} µs")
        : string.Create(CultureInfo.InvariantCulture, $"{microseconds / 1000:N1} ms");

    public static string Seconds(TimeSpan time) => Seconds(time.TotalSeconds);

    public static string Seconds(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds:N2} s");

    public static string Count(double value) => string.Create(CultureInfo.InvariantCulture, $"{value:N0}");

    public static string Bytes(double bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024:N1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024):N1} MiB"),
    };

    public static string Multiple(double value) => string.Create(CultureInfo.InvariantCulture, $"{value:N2}×");
}
