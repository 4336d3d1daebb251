namespace Cairn.Bench;

/// <summary>A distribution of durations in microseconds (nearest-rank percentiles).</summary>
internal sealed record Percentiles(int Count, double MeanUs, double P50Us, double P90Us, double P99Us, double MaxUs)
{
    public static Percentiles Of(IEnumerable<double> microseconds)
    {
        var sorted = microseconds.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Percentiles(0, 0, 0, 0, 0, 0);
        }

        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Percentiles(sorted.Length, Math.Round(sorted.Average(), 1), At(0.50), At(0.90), At(0.99), sorted[^1]);
    }
}
