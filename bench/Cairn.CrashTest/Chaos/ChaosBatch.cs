namespace Cairn.CrashTest.Chaos;

/// <summary>The state of a <c>chaos-batch</c> run. Each stage changes it by a pure function, so its end is known in advance.</summary>
internal sealed class ChaosBatch
{
    public string Key { get; set; } = "";

    /// <summary>How many items the loop goes through.</summary>
    public int Size { get; set; }

    public List<int> Items { get; set; } = [];

    public int Current { get; set; }

    /// <summary>Per item, what its two parallel branches computed.</summary>
    public List<long> Totals { get; set; } = [];

    /// <summary>The stages applied, in order: a stage skipped or applied twice shows here.</summary>
    public List<string> Trail { get; set; } = [];

    public string? Summary { get; set; }

    public bool StreamVerified { get; set; }
}
