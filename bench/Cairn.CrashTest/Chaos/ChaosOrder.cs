namespace Cairn.CrashTest.Chaos;

/// <summary>The state of a <c>chaos-order</c> run: what the load generator decided for it, and what its steps found.</summary>
internal sealed class ChaosOrder
{
    public string Key { get; set; } = "";

    /// <summary>What the load generator signals: <c>approve</c>, <c>decline</c>, or <c>none</c> (the wait times out).</summary>
    public string Decision { get; set; } = "";

    /// <summary>Whether the charge fails in the run's first attempt, so that the run is retried.</summary>
    public bool Flaky { get; set; }

    public string? Answer { get; set; }

    public bool Expired { get; set; }

    public bool Charged { get; set; }

    public string? ShipmentLabel { get; set; }

    public string? ShipmentError { get; set; }
}
