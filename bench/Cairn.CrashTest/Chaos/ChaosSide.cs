namespace Cairn.CrashTest.Chaos;

/// <summary>The slice a <c>chaos-batch</c> parallel branch works on.</summary>
internal sealed class ChaosSide
{
    public string Key { get; set; } = "";

    public int Item { get; set; }

    public long Value { get; set; }
}
