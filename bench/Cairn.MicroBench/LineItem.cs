namespace Cairn.MicroBench;

/// <summary>One line of <see cref="CheckpointState"/>: about 80 bytes of JSON with strings and numbers.</summary>
public sealed class LineItem
{
    public string Sku { get; set; } = "";

    public int Quantity { get; set; }

    public decimal Price { get; set; }

    public string Note { get; set; } = "";
}
