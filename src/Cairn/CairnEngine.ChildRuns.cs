namespace Cairn;

public sealed partial class CairnEngine : IRunHost
{
    /// <summary>Starts (or finds) the child run of a detached sub-flow, linked to its parent.</summary>
    async Task<RunRecord> IRunHost.StartChildRunAsync<TChild>(Flow<TChild> child, TChild input, string recoveryId, RunId parent, CancellationToken cancellationToken) =>
        (await StartRunCoreAsync(child, input, recoveryId, RunId.New(), cancellationToken, parent).ConfigureAwait(false)).Run;

    /// <summary>
    /// Wakes the parent of a detached sub-flow's child that has just finished: the parent, waiting for a retry that uses
    /// none up (or failed because of the child), is asked to run again at once. Best effort: the parent's timer is the fallback.
    /// </summary>
    async Task IRunHost.WakeParentAsync(RunRecord child)
    {
        // Most runs have no parent: skip parsing their settings.
        if (!child.Settings.Contains("parentRunId", StringComparison.Ordinal))
        {
            return;
        }

        string? parent;
        try
        {
            parent = RunSettings.FromJson(child.Settings).ParentRunId;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            return;
        }

        if (parent is null || !RunId.TryParse(parent, out var parentId))
        {
            return;
        }

        try
        {
            // Only a parent that waits for its child, or failed because of it: one an operator cancelled stays cancelled.
            if (await Store.GetRunAsync(parentId, CancellationToken.None).ConfigureAwait(false) is not { Status: RunStatus.WaitingForRetry or RunStatus.Failed })
            {
                return;
            }

            await _operations.RequestRerunAsync(parentId, $"child run {child.Id} ({child.FlowName}) finished", CancellationToken.None).ConfigureAwait(false);
            Wake();
        }
        catch (Exception ex) when (ex is InvalidRunStateException or RunNotFoundException or StoreUnavailableException)
        {
            // Not waiting (still running its attempt, which checks the child again), gone, or the store is down: the
            // parent's timer finds the child finished.
            Log.ParentNotWoken(_logger, parentId, child.Id, ex);
        }
    }
}
