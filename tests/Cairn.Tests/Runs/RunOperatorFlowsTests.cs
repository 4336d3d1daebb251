using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

/// <summary>The flows an engine registers reach the store's catalog, and the operator API reads them back without the flows' code.</summary>
public sealed class RunOperatorFlowsTests(ITestOutputHelper output) : EngineTest(output)
{
    private static Flow<TestState> Shipping() => Flow.Create<TestState>("shipping", version: 3)
        .Stage("pick", (_, _) => Task.CompletedTask)
        .CompensateWith((_, _) => Task.CompletedTask)
        .RecoveryPoint("picked", "items picked")
        .ForEach("each-parcel", s => s.Trace, body => body
            .Stage("pack", (_, _) => Task.CompletedTask)
            .RecoveryPoint("packed"))
        .If("heavy", s => s.Value > 10, then => then.Stage("freight", (_, _) => Task.CompletedTask), otherwise => otherwise.Stage("post", (_, _) => Task.CompletedTask))
        .Stage("notify", (_, _) => Task.CompletedTask)
        .Build();

    [Fact]
    public async Task ListFlowsAsync_AfterAnEngineStarted_ShowsItsFlowsStructureAndRecoveryPoints()
    {
        var flow = Shipping();
        await using (var engine = CreateEngine(flow))
        {
            await engine.StartAsync();
        }

        var flows = await RunOperator.Create(Store).ListFlowsAsync();

        var shipping = Assert.Single(flows);
        Assert.Equal(("shipping", 3, flow.Fingerprint), (shipping.Name, shipping.Version, shipping.Fingerprint));
        Assert.Equal(["picked", "packed"], shipping.RecoveryPoints);
        Assert.Equal(Time.GetUtcNow(), shipping.RecordedAt);
        Assert.False(string.IsNullOrEmpty(shipping.RecordedBy));
        Assert.Equal(flow.Structure, shipping.Structure, new StructureComparer());
        Assert.Equal(["stage", "recovery point", "loop", "branch", "stage"], shipping.Structure.Select(s => s.Kind));
        Assert.True(shipping.Structure[0].Compensated);
        Assert.Equal("items picked", shipping.Structure[1].StatusMessage);
        var loop = Assert.Single(shipping.Structure[2].Bodies);
        Assert.Null(loop.Label);
        Assert.Equal(["pack", "packed"], loop.Steps.Select(s => s.Name));
        Assert.Equal([("then", "freight"), ("else", "post")], shipping.Structure[3].Bodies.Select(b => (b.Label, b.Steps[0].Name)));
    }

    [Fact]
    public async Task ListFlowsAsync_StoreWithoutACatalog_ListsNone()
    {
        // A store that forwards the run contracts and nothing else.
        await using var store = new WakeUpRunStore(new InMemoryRunStore());

        Assert.Empty(await RunOperator.Create(store).ListFlowsAsync());
    }

    [Fact]
    public async Task ListFlowsAsync_StructureThisVersionCannotRead_ShowsTheFlowWithoutSteps()
    {
        await ((IFlowCatalog)Store).RecordFlowsAsync([new FlowRecord("future", 1, "ffff", "{\"not\":\"a list\"}", Time.GetUtcNow(), "node")], CancellationToken.None);

        var flow = Assert.Single(await RunOperator.Create(Store).ListFlowsAsync());

        Assert.Equal("future", flow.Name);
        Assert.Empty(flow.Structure);
        Assert.Empty(flow.RecoveryPoints);
    }

    /// <summary>Records compare by value, but their lists by reference: compare the JSON the store keeps instead.</summary>
    private sealed class StructureComparer : IEqualityComparer<IReadOnlyList<FlowStepInfo>>
    {
        public bool Equals(IReadOnlyList<FlowStepInfo>? x, IReadOnlyList<FlowStepInfo>? y) =>
            System.Text.Json.JsonSerializer.Serialize(x) == System.Text.Json.JsonSerializer.Serialize(y);

        public int GetHashCode(IReadOnlyList<FlowStepInfo> obj) => 0;
    }
}
