namespace Cairn;

public sealed partial class CairnEngine
{
    /// <summary>The most runs one claim takes.</summary>
    internal const int MaxClaimBatch = 64;

    private async Task ClaimLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            MarkWorkerLoop();
            var claimedAll = false;
            try
            {
                // At most a group commit's worth at a time: the first runs claimed get going (and finish) while the
                // next are claimed, instead of every due run waiting behind one large claim and then all at once.
                var free = Math.Min(_slots.CurrentCount, MaxClaimBatch);
                if (free > 0 && !_flows.IsEmpty)
                {
                    var request = new ClaimRequest(NodeName, [.. _flows.Keys], free, _options.LeaseDuration) { ResumeInterrupted = _options.RecoverInterruptedRuns };
                    var claimed = await Store.ClaimDueRunsAsync(request, stopping).ConfigureAwait(false);
                    foreach (var run in claimed)
                    {
                        // Rarely waits: the claim asked for at most the free slots, but a run started here meanwhile may
                        // have taken one (see ReserveSlotForNewRun). The claimed runs keep their leases while they wait.
                        await _slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_abortRuns.Token);
                        _active[run.Run.Id] = cancellation;
                        _ = Task.Run(() => ExecuteClaimedAsync(run, cancellation, knownInput: null), CancellationToken.None);
                    }

                    claimedAll = claimed.Count > 0 && claimed.Count == free;
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.StoreError(_logger, ex, "claiming due runs", _options.PollInterval);
            }

            if (!claimedAll)
            {
                await WaitForWakeAsync(stopping).ConfigureAwait(false);
            }
        }
    }

    private async Task WaitForWakeAsync(CancellationToken stopping)
    {
        try
        {
            await _wake.Reader.WaitToReadAsync(stopping).AsTask()
                .WaitAsync(_options.PollInterval, TimeProvider, stopping).ConfigureAwait(false);
            _wake.Reader.TryRead(out _);
        }
        catch (TimeoutException)
        {
            // Poll: runs may have become due, or been created by another process.
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <param name="claimed">The run and its lease.</param>
    /// <param name="cancellation">The attempt's cancellation, registered in <c>_active</c> with a slot taken.</param>
    /// <param name="knownInput">The input of a run this engine has just created claimed: no need to read it back.</param>
    private async Task ExecuteClaimedAsync(ClaimedRun claimed, CancellationTokenSource cancellation, byte[]? knownInput)
    {
        try
        {
            if (DefinitionFor(claimed.Run.FlowName, claimed.Run.FlowVersion) is { } flow)
            {
                await flow.RunAttemptAsync(Execution, claimed, knownInput, cancellation.Token).ConfigureAwait(false);
            }
            else if (_flows.TryGetValue(claimed.Run.FlowName, out var known))
            {
                await LeaveForNewerNodeAsync(claimed, known.Newest).ConfigureAwait(false);
            }
        }
        finally
        {
            ForgetAttempt(claimed.Run.Id, cancellation);
            NotifyChanged(claimed.Run.Id);
            Wake();
        }
    }

    /// <summary>
    /// A run of a newer version of a flow than this engine knows (a rolling upgrade: a newer node started it): put it back,
    /// due again after the poll interval, without using up a retry, for a node that knows its version.
    /// </summary>
    private async Task LeaveForNewerNodeAsync(ClaimedRun claimed, FlowDefinition newest)
    {
        var run = claimed.Run;
        Log.RunOfNewerVersion(_logger, run.Id, run.FlowName, run.FlowVersion, newest.Version);
        try
        {
            await Store.TransitionAsync(
                claimed.Lease,
                new RunTransition(RunStatus.WaitingForRetry, RunEventKind.RetryScheduled,
                    $"attempt {run.Attempt} on {NodeName} put back: the run is {run.FlowName} v{run.FlowVersion} and this node knows it up to v{newest.Version}; it waits for a node that knows v{run.FlowVersion}")
                {
                    RetryAfter = _options.PollInterval * 10,
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RunOwnershipLostException or StoreUnavailableException)
        {
            // Taken over or the store is down: the lease expires and another node takes the run.
            Log.RunStoreError(_logger, ex, "putting back", run.Id, _options.PollInterval);
        }
    }

    /// <summary>
    /// Takes a slot for a run about to be started here, so that it can be created already claimed and executed at once;
    /// null when the engine is stopping or every slot is busy. Registered as active first, so that a stopping engine waits
    /// for the creation to end before it lets go of the store.
    /// </summary>
    private CancellationTokenSource? ReserveSlotForNewRun(RunId runId)
    {
        if (IsStopping || _slots.CurrentCount == 0)
        {
            return null;
        }

        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_abortRuns.Token);
        if (!_active.TryAdd(runId, cancellation))
        {
            cancellation.Dispose();
            return null;
        }

        if (IsStopping || !_slots.Wait(0))
        {
            _active.TryRemove(new KeyValuePair<RunId, CancellationTokenSource>(runId, cancellation));
            cancellation.Dispose();
            SignalRunFinished();
            return null;
        }

        return cancellation;
    }

    /// <summary>Gives back a slot reserved for a new run that was not created claimed after all.</summary>
    private void ReleaseReservedSlot(RunId runId, CancellationTokenSource? reserved)
    {
        if (reserved is not null)
        {
            ForgetAttempt(runId, reserved);
        }
    }

    private void ForgetAttempt(RunId runId, CancellationTokenSource cancellation)
    {
        // Free the slot before forgetting the attempt: once no attempt is active, a stopping engine may dispose the semaphore.
        _slots.Release();

        // Only this attempt's entry: a re-run of the same run may already be executing under the same ID.
        _active.TryRemove(new KeyValuePair<RunId, CancellationTokenSource>(runId, cancellation));
        cancellation.Dispose();
        SignalRunFinished();
    }

    private void SignalRunFinished() =>
        Interlocked.Exchange(ref _runFinished, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private async Task<bool> WaitForActiveRunsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = timeout == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : TimeProvider.GetUtcNow() + timeout;
        while (true)
        {
            var finished = Volatile.Read(ref _runFinished);
            if (_active.IsEmpty)
            {
                return true;
            }

            var remaining = deadline == DateTimeOffset.MaxValue ? Timeout.InfiniteTimeSpan : deadline - TimeProvider.GetUtcNow();
            if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await finished.Task.WaitAsync(remaining, TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken stopping)
    {
        var interval = _options.LeaseDuration / 3;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, TimeProvider, stopping).ConfigureAwait(false);
                if (!_active.IsEmpty)
                {
                    await Store.RenewLeasesAsync(NodeName, _options.LeaseDuration, stopping).ConfigureAwait(false);
                }

                // Owners that died are found by their expired leases: other nodes on a shared store, or this engine's own
                // runs after a stall longer than the lease (their attempts are fenced once the runs are claimed again).
                await Store.InterruptAbandonedRunsAsync(NodeName, exclusive: false, TimeSpan.Zero, stopping).ConfigureAwait(false);
                await RefreshGaugesAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.StoreError(_logger, ex, "renewing leases", interval);
            }
        }
    }

    private async Task PurgeLoopAsync(CancellationToken stopping)
    {
        if (_options.RetentionPeriod is not { } retention)
        {
            return;
        }

        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await PurgeAsync(retention, stopping).ConfigureAwait(false);
                await PurgeStageCompletionsAsync(TimeProvider.GetUtcNow() - retention, stopping).ConfigureAwait(false);
                await SweepStreamsAsync(cancellationToken: stopping).ConfigureAwait(false);
                await Task.Delay(_options.PurgeInterval, TimeProvider, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.StoreError(_logger, ex, "purging old runs", _options.PurgeInterval);
                try
                {
                    await Task.Delay(_options.PurgeInterval, TimeProvider, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Deletes the completion records older than <paramref name="cutoff"/> from the data sources of the registered flows:
    /// those of runs that failed or were cancelled, and those a completed run could not delete. A data source that fails
    /// is logged and tried again at the next purge.
    /// </summary>
    private async Task PurgeStageCompletionsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        foreach (var source in Flows.SelectMany(f => f.DataSources).Distinct())
        {
            try
            {
                var unit = await source.BeginAsync(cancellationToken).ConfigureAwait(false);
                await using (unit.ConfigureAwait(false))
                {
                    await source.Completions.DeleteOlderThanAsync(unit.Connection, unit.Transaction, cutoff, cancellationToken).ConfigureAwait(false);
                    await unit.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                Log.StageCompletionsNotPurged(_logger, ex, cutoff, source.Name);
            }
        }
    }
}
