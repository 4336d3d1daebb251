using Cairn.Storage;

namespace Cairn.StoreContract;

public abstract partial class RunStoreContract
{
    private IFlowCatalog Catalog => Store as IFlowCatalog ?? throw new InvalidOperationException($"{Store.GetType().Name} has no flow catalog.");

    private FlowRecord FlowAt(string name, int version, string fingerprint, string node = NodeA) =>
        new(name, version, fingerprint, $"[{{\"kind\":\"stage\",\"name\":\"{name}-{fingerprint}\"}}]", Time.GetUtcNow(), node);

    [Fact]
    public async Task ListFlowsAsync_Empty_ListsNone()
    {
        Assert.Empty(await Catalog.ListFlowsAsync(Ct));
    }

    [Fact]
    public async Task RecordFlowsAsync_ListsThemByNameThenVersion_WithStructureTimeAndNode()
    {
        await Catalog.RecordFlowsAsync([FlowAt("orders", 2, "bbbb"), FlowAt("billing", 1, "cccc"), FlowAt("orders", 1, "aaaa")], Ct);

        var flows = await Catalog.ListFlowsAsync(Ct);

        Assert.Equal([("billing", 1), ("orders", 1), ("orders", 2)], flows.Select(f => (f.Name, f.Version)));
        var orders = flows[1];
        Assert.Equal("aaaa", orders.Fingerprint);
        Assert.Equal("[{\"kind\":\"stage\",\"name\":\"orders-aaaa\"}]", orders.Structure);
        Assert.Equal(Time.GetUtcNow(), orders.RecordedAt);
        Assert.Equal(NodeA, orders.RecordedBy);
    }

    [Fact]
    public async Task RecordFlowsAsync_SameFlowAgain_UpdatesTimeAndNode_OneRow()
    {
        await Catalog.RecordFlowsAsync([FlowAt("orders", 1, "aaaa")], Ct);
        Time.Advance(TimeSpan.FromMinutes(5));

        await Catalog.RecordFlowsAsync([FlowAt("orders", 1, "aaaa", NodeB)], Ct);

        var flow = Assert.Single(await Catalog.ListFlowsAsync(Ct));
        Assert.Equal(NodeB, flow.RecordedBy);
        Assert.Equal(Time.GetUtcNow(), flow.RecordedAt);
    }

    [Fact]
    public async Task RecordFlowsAsync_ChangedStructureUnderTheSameVersion_KeepsBoth_OldestFirst()
    {
        await Catalog.RecordFlowsAsync([FlowAt("orders", 1, "aaaa")], Ct);
        Time.Advance(TimeSpan.FromMinutes(5));

        await Catalog.RecordFlowsAsync([FlowAt("orders", 1, "dddd")], Ct);

        Assert.Equal(["aaaa", "dddd"], (await Catalog.ListFlowsAsync(Ct)).Select(f => f.Fingerprint));
    }

    [Fact]
    public async Task RecordFlowsAsync_None_ChangesNothing()
    {
        await Catalog.RecordFlowsAsync([], Ct);

        Assert.Empty(await Catalog.ListFlowsAsync(Ct));
    }
}
