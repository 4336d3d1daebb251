namespace Cairn.Bench;

/// <summary>The state of the benchmark flows: a counter the stages change and a payload that sets its size.</summary>
internal sealed class BenchState
{
    public int Counter { get; set; }

    public string Payload { get; set; } = "";
}
