using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.StoreContract;

public abstract partial class RunStoreContract
{
    private static readonly StoredStream OrdersCsv = new(new string('a', 64), 1_048_576);
    private static readonly StoredStream OrdersJson = new(new string('b', 64), 17);

    private static Dictionary<string, StoredStream> Streams(params (string Name, StoredStream Content)[] streams) =>
        streams.ToDictionary(s => s.Name, s => s.Content, StringComparer.Ordinal);

    private IStreamReferences References => Assert.IsAssignableFrom<IStreamReferences>(Store);

    [Fact]
    public async Task SaveCheckpointAsync_KeepsTheRunsStreams_AndReturnsThemWithTheCheckpoint()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Streams = Streams(("orders.csv", OrdersCsv), ("orders.json", OrdersJson)) }, keep: 3, Ct);

        var saved = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        Assert.Equal(Streams(("orders.csv", OrdersCsv), ("orders.json", OrdersJson)), saved.Streams);

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(2), keep: 3, Ct);
        Assert.Empty((await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!.Streams);
    }

    [Fact]
    public async Task GetCheckpointAsync_ReturnsAnOlderCheckpointsStreams()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Streams = Streams(("orders.csv", OrdersCsv)) }, keep: 3, Ct);
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(2) with { Streams = Streams(("orders.json", OrdersJson)) }, keep: 3, Ct);

        Assert.Equal(Streams(("orders.csv", OrdersCsv)), (await Store.GetCheckpointAsync(run.Id, 1, Ct))!.Streams);
        Assert.Equal(Streams(("orders.json", OrdersJson)), (await Store.GetCheckpointAsync(run.Id, 2, Ct))!.Streams);
    }

    [Fact]
    public async Task RequestRerunFromAsync_CopiesTheChosenCheckpointsStreams_AlsoWithAnEditedState()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Streams = Streams(("orders.csv", OrdersCsv)) }, keep: 3, Ct);
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(2) with { Streams = Streams(("orders.json", OrdersJson)) }, keep: 3, Ct);
        await Store.TransitionAsync(claimed.Lease, Failure(), Ct);

        await Store.RequestRerunFromAsync(run.Id, 1, null, "re-run", Ct);
        var copy = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        Assert.Equal(3L, copy.Sequence);
        Assert.Equal(Streams(("orders.csv", OrdersCsv)), copy.Streams);

        var again = Assert.Single(await ClaimAsync(NodeA));
        await Store.TransitionAsync(again.Lease, Failure(), Ct);
        await Store.RequestRerunFromAsync(run.Id, 2, State(7), "re-run with an edited state", Ct);
        var edited = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        Assert.Equal(4L, edited.Sequence);
        Assert.Equal(Streams(("orders.json", OrdersJson)), edited.Streams);
    }

    [Fact]
    public async Task RequestCompensationAsync_CopiesTheLatestCheckpointsStreams()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Streams = Streams(("orders.csv", OrdersCsv)) }, keep: 3, Ct);
        await Store.TransitionAsync(claimed.Lease, Failure(), Ct);

        await Store.Operations().RequestCompensationAsync(run.Id, Undo, "compensate", Ct);

        var copy = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        Assert.Equal(2L, copy.Sequence);
        Assert.Equal(Streams(("orders.csv", OrdersCsv)), copy.Streams);
    }

    [Fact]
    public async Task GetReferencedStreamsAsync_NamesTheContentOfEveryKeptCheckpoint_AndForgetsCheckpointsNoLongerKept()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        Assert.Empty(await References.GetReferencedStreamsAsync(Ct));

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Streams = Streams(("orders.csv", OrdersCsv)) }, keep: 2, Ct);
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(2) with { Streams = Streams(("a", OrdersCsv), ("b", OrdersJson)) }, keep: 2, Ct);
        Assert.Equal(new HashSet<string> { OrdersCsv.Sha256, OrdersJson.Sha256 }, await References.GetReferencedStreamsAsync(Ct));

        // Checkpoint 1 falls out of the kept two; checkpoint 2 still holds both contents.
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(3) with { Streams = Streams(("b", OrdersJson)) }, keep: 2, Ct);
        Assert.Equal(new HashSet<string> { OrdersCsv.Sha256, OrdersJson.Sha256 }, await References.GetReferencedStreamsAsync(Ct));

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(4), keep: 2, Ct);
        Assert.Equal(new HashSet<string> { OrdersJson.Sha256 }, await References.GetReferencedStreamsAsync(Ct));
    }

    [Fact]
    public async Task GetReferencedStreamsAsync_ForgetsTheStreamsOfACompletedRun()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Streams = Streams(("orders.csv", OrdersCsv)) }, keep: 3, Ct);
        Assert.Contains(OrdersCsv.Sha256, await References.GetReferencedStreamsAsync(Ct));

        await Store.CompleteRunAsync(claimed.Lease, Result, "done", [], Ct);

        Assert.Empty(await References.GetReferencedStreamsAsync(Ct));
        Assert.Equal(RunStatus.Completed, (await Store.GetRunAsync(run.Id, Ct))!.Status);
    }
}
