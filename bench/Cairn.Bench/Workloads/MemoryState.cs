namespace Cairn.Bench.Workloads;

/// <summary>The state of the memory workload's flow: a large byte array, built by its first stage.</summary>
internal sealed class MemoryState
{
    public int SizeBytes { get; set; }

    public byte[]? Data { get; set; }
}
