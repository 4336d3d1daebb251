using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Xunit;

namespace Cairn.StoreContract;

/// <summary>What the store logging tests make a store do, whatever the store: the same scenario, read with its own event IDs.</summary>
public static class StoreLogging
{
    /// <summary>
    /// Starts <paramref name="engine"/>, creates and claims a run on its store, cancels it as an operator would, and makes
    /// the attempt's next checkpoint be refused: the store has then logged its migrations and one refused fenced write.
    /// </summary>
    /// <returns>The lease whose write was refused; it names the run.</returns>
    public static async Task<RunLease> RefuseAFencedWriteAsync(CairnEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        await engine.StartAsync();
        var store = engine.Store;
        var runId = RunId.New();
        await store.CreateRunAsync(new NewRun(runId, "orders", 1, "order-1", new byte[] { 1 }, "c", "{}"), CancellationToken.None);
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node-a", ["orders"], 1, TimeSpan.FromMinutes(5)), CancellationToken.None));

        // An operator cancels the run while its attempt works: the attempt's next checkpoint is fenced out.
        await ((IRunOperations)store).CancelRunAsync(runId, "cancelled by test", CancellationToken.None);
        await Assert.ThrowsAsync<RunOwnershipLostException>(() =>
            store.SaveCheckpointAsync(claimed.Lease, new Checkpoint(1, FlowPath.Of(1), "after-one", null, new byte[] { 2 }, "c2"), 1, CancellationToken.None));
        return claimed.Lease;
    }
}
