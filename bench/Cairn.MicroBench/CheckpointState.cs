using Cairn.Serialization;

namespace Cairn.MicroBench;

/// <summary>
/// A flow state shaped like an import job: a few scalars and a list of line items. Its size is set by the number of
/// items, so the large states cost what many small objects cost, not what one long string costs.
/// </summary>
public sealed class CheckpointState
{
    public string OrderId { get; set; } = "";

    public int Counter { get; set; }

    public List<LineItem> Items { get; set; } = [];

    /// <summary>Builds a state whose JSON (with the default serializer) is the smallest at or above <paramref name="bytes"/>.</summary>
    public static CheckpointState OfSize(int bytes)
    {
        var serializer = new JsonStateSerializer();
        var state = new CheckpointState { OrderId = "ORD-2026-000042" };
        while (serializer.Serialize(state).Length < bytes)
        {
            var i = state.Items.Count;
            state.Items.Add(new LineItem { Sku = $"SKU-{i:D6}", Quantity = 1 + (i % 7), Price = 9.95m + i, Note = "standard" });
        }

        return state;
    }
}
