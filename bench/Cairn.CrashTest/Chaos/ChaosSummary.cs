namespace Cairn.CrashTest.Chaos;

/// <summary>The state of the inline sub-flow <c>chaos-summary</c>.</summary>
internal sealed class ChaosSummary
{
    public List<long> Totals { get; set; } = [];

    public long Sum { get; set; }

    public string? Text { get; set; }
}
