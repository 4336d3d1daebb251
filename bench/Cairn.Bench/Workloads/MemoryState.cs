namespace Cairn.Bench.Workloads;

/// <summary>The state of the memory workload's flow: a large byte array or a large list of rows, built by its first stage.</summary>
internal sealed class MemoryState
{
    public int SizeBytes { get; set; }

    public byte[]? Data { get; set; }

    /// <summary>The payload as a result set: many small records, as an integration flow holds them.</summary>
    public List<MemoryRow>? Rows { get; set; }
}

/// <summary>One row of the records payload: an order line.</summary>
internal sealed class MemoryRow
{
    public long Id { get; set; }

    public string Customer { get; set; } = "";

    public string Sku { get; set; } = "";

    public int Quantity { get; set; }

    public decimal Amount { get; set; }

    public DateTime OrderedAt { get; set; }
}
