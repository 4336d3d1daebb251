namespace Cairn.CrashTest.Chaos;

/// <summary>The state of a <c>chaos-shipment</c> run: the detached child of a <c>chaos-order</c>.</summary>
internal sealed class ChaosShipment
{
    public string Order { get; set; } = "";

    public bool Packed { get; set; }

    public string? Label { get; set; }
}
