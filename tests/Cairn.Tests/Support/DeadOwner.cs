using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;

namespace Cairn.Tests.Support;

/// <summary>
/// Plays an engine process that died mid-run: it creates and claims a run directly in the store, optionally commits a
/// checkpoint at a recovery point, and then never writes again, so its lease runs out.
/// </summary>
public sealed class DeadOwner(RunStore store, string name = "dead-node")
{
    private static readonly JsonStateSerializer Serializer = new();

    public string Name { get; } = name;

    /// <summary>Creates a run of <paramref name="flow"/>, claims it, and commits <paramref name="checkpointState"/> at <paramref name="recoveryPoint"/> when given.</summary>
    public async Task<RunId> LeaveRunningAsync<TState>(
        Flow<TState> flow,
        TState input,
        TimeSpan leaseDuration,
        string? recoveryPoint = null,
        TState? checkpointState = default,
        RetryPolicy? retryPolicy = null)
    {
        var inputBytes = Serializer.Serialize(input);
        var id = RunId.New();
        var settings = new RunSettings(retryPolicy ?? flow.RetryPolicy ?? RetryPolicy.Default).ToJson();
        await store.CreateRunAsync(new NewRun(id, flow.Name, flow.Version, id.ToString(), inputBytes, Checksum.Compute(inputBytes), settings), CancellationToken.None);
        var claimed = await store.ClaimDueRunsAsync(new ClaimRequest(Name, [flow.Name], 1, leaseDuration), CancellationToken.None);
        var lease = Assert.Single(claimed).Lease;
        Assert.Equal(id, lease.RunId);
        if (recoveryPoint is not null)
        {
            var index = flow.Steps.Select(s => s.Name).ToList().IndexOf(recoveryPoint);
            Assert.True(index > 0, $"The flow has no recovery point '{recoveryPoint}'.");
            var state = Serializer.Serialize(checkpointState);
            await store.SaveCheckpointAsync(lease, new Checkpoint(1, FlowPath.Of(index), recoveryPoint, null, state, Checksum.Compute(state)), keep: 1, CancellationToken.None);
        }

        return id;
    }
}
