using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;

namespace Cairn.StoreContract;

/// <summary>
/// Every behaviour a <see cref="RunStore"/> promises, described once. A store's test project subclasses this class and
/// supplies a fresh store; xUnit creates one instance, so one store and one clock, per test. The cases are split by
/// area into the partial files beside this one; this file holds the fixture and the helpers they share.
/// </summary>
public abstract partial class RunStoreContract : IAsyncLifetime
{
    private const string Flow = "orders";
    private const string NodeA = "node-a";
    private const string NodeB = "node-b";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private RunStore? _store;

    /// <summary>The store's clock; advance it instead of waiting.</summary>
    protected FakeTimeProvider Time { get; } = new();

    /// <summary>The store under test, created for this test.</summary>
    protected RunStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>Creates a fresh, empty, initialized store on <paramref name="time"/>.</summary>
    protected abstract Task<RunStore> CreateStoreAsync(FakeTimeProvider time);

    /// <summary>How many checkpoints the store holds for a run, or null when the store cannot tell from outside.</summary>
    protected virtual Task<int?> CountCheckpointsAsync(RunId runId) => Task.FromResult<int?>(null);

    /// <summary>
    /// Whether the store's worker lock covers the whole store (one engine per store, as the embedded SQLite file) rather
    /// than one node name (PostgreSQL). Decides which running runs an exclusive interruption finds abandoned.
    /// </summary>
    protected virtual bool WorkerLockCoversWholeStore => true;

    public virtual async Task InitializeAsync() => _store = await CreateStoreAsync(Time);

    public virtual async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    // ---- Helpers

    private static byte[] Input => "{\"order\":42}"u8.ToArray();

    private static byte[] Result => "{\"imported\":17}"u8.ToArray();

    private static NewRun NewRun(string flow = Flow, string? recoveryId = null, byte[]? input = null)
    {
        var bytes = input ?? Input;
        return new NewRun(RunId.New(), flow, 3, recoveryId ?? Guid.NewGuid().ToString("N"), bytes, $"sha256:{bytes.Length}", """{"retries":3}""");
    }

    private async Task<RunRecord> CreateAsync(string flow = Flow, string? recoveryId = null)
    {
        var result = await Store.CreateRunAsync(NewRun(flow, recoveryId), Ct);
        Assert.True(result.Created);
        return result.Run;
    }

    private Task<IReadOnlyList<ClaimedRun>> ClaimAsync(string owner, string[]? flows = null, int maxRuns = 10, TimeSpan? lease = null) =>
        Store.ClaimDueRunsAsync(new ClaimRequest(owner, flows ?? [Flow], maxRuns, lease ?? Lease), Ct);

    private static byte[] State(long sequence) => Encoding.UTF8.GetBytes($"{{\"step\":{sequence}}}");

    private static Checkpoint CheckpointAt(long sequence) =>
        new(sequence, FlowPath.Of((int)sequence), $"point-{sequence}", $"step {sequence} done", State(sequence), StateChecksum(sequence));

    // Real checksums: the operator API refuses to re-run from a checkpoint whose state fails its checksum.
    private static string StateChecksum(long sequence) => StoreRules.StateChecksum(State(sequence));

    private static RunTransition Retry(TimeSpan after) =>
        new(RunStatus.WaitingForRetry, RunEventKind.RetryScheduled, "retry 1 in 5 minutes") { RetryAfter = after, CountsAsRetry = true };

    private static RunTransition Wait(TimeSpan due) =>
        new(RunStatus.Waiting, RunEventKind.Waiting, "attempt 1 saved its state and waits for signal 'approval'") { RetryAfter = due };

    private static RunTransition Failure() =>
        new(RunStatus.Failed, RunEventKind.Failed, "failed: boom") { LastError = "InvalidOperationException: boom" };

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
#pragma warning disable CA5394 // Test data, not security.
        new Random(seed).NextBytes(bytes);
#pragma warning restore CA5394
        return bytes;
    }

    /// <summary>
    /// Creates a run in the flow (its own flow by default, so claims touch nothing else) and brings it to
    /// <paramref name="status"/>; every run that was claimed has passed recovery point 1.
    /// </summary>
    private async Task<RunRecord> CreateInStatusAsync(
        RunStatus status, string? flow = null, string? recoveryId = null, string owner = NodeA, TimeSpan? lease = null)
    {
        var run = await CreateAsync(flow ?? $"flow-{status}", recoveryId);
        if (status == RunStatus.Pending)
        {
            return run;
        }

        var claimed = Assert.Single(await ClaimAsync(owner, flows: [run.FlowName], lease: lease));
        Assert.Equal(run.Id, claimed.Run.Id);
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);
        return await BringToStatusAsync(claimed, status);
    }

    /// <summary>
    /// Creates a run in its own flow that passes recovery points 1 to <paramref name="count"/> one second apart, keeping
    /// <paramref name="keep"/> checkpoints, and brings it to the re-runnable <paramref name="status"/>.
    /// </summary>
    private async Task<RunRecord> CreateWithCheckpointsAsync(RunStatus status, int count, int keep = 3)
    {
        var run = await CreateAsync($"flow-{status}");
        var claimed = Assert.Single(await ClaimAsync(NodeA, flows: [run.FlowName]));
        for (var sequence = 1; sequence <= count; sequence++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(sequence), keep, Ct);
        }

        return await BringToStatusAsync(claimed, status);
    }

    /// <summary>Brings a claimed run from Running to <paramref name="status"/> as an engine or an operator would.</summary>
    private async Task<RunRecord> BringToStatusAsync(ClaimedRun claimed, RunStatus status)
    {
        switch (status)
        {
            case RunStatus.Running:
                break;
            case RunStatus.WaitingForRetry:
                await Store.TransitionAsync(claimed.Lease, Retry(TimeSpan.FromMinutes(5)) with { LastError = "transient" }, Ct);
                break;
            case RunStatus.Interrupted:
                await Store.TransitionAsync(claimed.Lease, new RunTransition(RunStatus.Interrupted, RunEventKind.Interrupted, "engine stopping"), Ct);
                break;
            case RunStatus.Failed:
                await Store.TransitionAsync(claimed.Lease, Failure(), Ct);
                break;
            case RunStatus.Waiting:
                await Store.TransitionAsync(claimed.Lease, Wait(TimeSpan.FromHours(1)), Ct);
                break;
            case RunStatus.Completed:
                await Store.CompleteRunAsync(claimed.Lease, Result, "done", [], Ct);
                break;
            case RunStatus.Cancelled:
                await Store.CancelRunAsync(claimed.Run.Id, "cancelled by operator", Ct);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(status), status, null);
        }

        var current = await Store.GetRunAsync(claimed.Run.Id, Ct);
        Assert.NotNull(current);
        Assert.Equal(status, current.Status);
        return current;
    }

    private async Task<Snapshot> SnapshotAsync(RunId runId)
    {
        var run = await Store.GetRunAsync(runId, Ct);
        Assert.NotNull(run);
        var data = await Store.GetRecoveryDataAsync(runId, Ct);
        var events = await Store.GetEventsAsync(runId, Ct);
        return new Snapshot(run, data.Input?.ToArray(), data.Checkpoint, events, await CountCheckpointsAsync(runId));
    }

    private async Task AssertUnchangedAsync(Snapshot before)
    {
        var after = await SnapshotAsync(before.Run.Id);
        Assert.Equal(before.Run, after.Run);
        Assert.Equal(before.Input, after.Input);
        Assert.Equal(before.Events, after.Events);
        Assert.Equal(before.CheckpointCount, after.CheckpointCount);
        Assert.Equal(before.Checkpoint is null, after.Checkpoint is null);
        if (before.Checkpoint is { } expected && after.Checkpoint is { } actual)
        {
            Assert.Equal(expected.Sequence, actual.Sequence);
            Assert.Equal(expected.Position, actual.Position);
            Assert.Equal(expected.RecoveryPoint, actual.RecoveryPoint);
            Assert.Equal(expected.StatusMessage, actual.StatusMessage);
            Assert.Equal(expected.Checksum, actual.Checksum);
            Assert.Equal(expected.CreatedAt, actual.CreatedAt);
            Assert.True(expected.State.Span.SequenceEqual(actual.State.Span), "the checkpoint's state changed");
        }
    }

    private sealed record Snapshot(RunRecord Run, byte[]? Input, Checkpoint? Checkpoint, IReadOnlyList<RunEvent> Events, int? CheckpointCount);
}
