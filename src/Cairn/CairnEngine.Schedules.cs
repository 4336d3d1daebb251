using Cairn.Schedules;

namespace Cairn;

public sealed partial class CairnEngine
{
    private TaskCompletionSource _schedulesChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The schedules defined in code (<c>CairnEngineBuilder.AddSchedule</c>), reconciled with the store at start-up.</summary>
    internal IReadOnlyList<ScheduleRecord> CodeSchedules { get; init; } = [];

    /// <summary>Wakes the scheduler: a schedule changed here (trigger, resume) and may be due now.</summary>
    internal void WakeSchedules() => Interlocked.Exchange(ref _schedulesChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>
    /// Brings the store's schedules in line with the ones defined in code: new ones are created with their first slot after
    /// now, changed ones updated (a changed spec starts from now; a pause is kept). Code-defined schedules of this engine's
    /// flows that its code no longer has are counted in the log, not deleted (another node may run other code): delete
    /// them with <see cref="RunOperator.DeleteScheduleAsync"/>. Schedules created at run time are left as they are.
    /// </summary>
    private async Task ReconcileSchedulesAsync(CancellationToken cancellationToken)
    {
        if (Store is not IScheduleStore schedules || CodeSchedules.Count == 0)
        {
            return;
        }

        int created = 0, updated = 0, unchanged = 0;
        var now = TimeProvider.GetUtcNow();
        foreach (var schedule in CodeSchedules)
        {
            var stored = await schedules.GetScheduleAsync(schedule.Name, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                await schedules.SaveScheduleAsync(schedule with { NextSlotAt = schedule.Spec.NextAfter(now) }, cancellationToken).ConfigureAwait(false);
                created++;
            }
            else if (!stored.SameDefinition(schedule))
            {
                var next = stored.Spec.Equals(schedule.Spec) ? stored.NextSlotAt : schedule.Spec.NextAfter(now);
                await schedules.SaveScheduleAsync(
                    stored with { FlowName = schedule.FlowName, Input = schedule.Input, Spec = schedule.Spec, Options = schedule.Options, DefinedInCode = true, NextSlotAt = next },
                    cancellationToken).ConfigureAwait(false);
                updated++;
            }
            else
            {
                unchanged++;
            }
        }

        var inCode = CodeSchedules.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var notInCode = (await schedules.ListSchedulesAsync(cancellationToken).ConfigureAwait(false))
            .Count(s => s.DefinedInCode && _flows.ContainsKey(s.FlowName) && !inCode.Contains(s.Name));
        Log.SchedulesReconciled(_logger, created, updated, unchanged, notInCode);
    }

    /// <summary>
    /// Starts the runs of due slots of the schedules of this engine's flows, waking at the earliest next slot, at an
    /// operator's change made here, and at least every <see cref="CairnOptions.PollInterval"/> to see other nodes' changes.
    /// </summary>
    private async Task ScheduleLoopAsync(CancellationToken stopping)
    {
        if (Store is not IScheduleStore schedules)
        {
            return;
        }

        while (!stopping.IsCancellationRequested)
        {
            var changed = Volatile.Read(ref _schedulesChanged).Task;
            var wait = _options.PollInterval;
            try
            {
                // The time is read before the schedules: a schedule paused before the clock reached a slot is seen paused.
                var now = TimeProvider.GetUtcNow();
                foreach (var schedule in await schedules.ListSchedulesAsync(stopping).ConfigureAwait(false))
                {
                    if (_flows.ContainsKey(schedule.FlowName)
                        && await HandleScheduleAsync(schedules, schedule, now, stopping).ConfigureAwait(false) is { } next
                        && next - TimeProvider.GetUtcNow() is var until && until < wait)
                    {
                        wait = until < TimeSpan.Zero ? TimeSpan.Zero : until;
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is StoreUnavailableException or CairnException or InvalidOperationException)
            {
                Log.StoreError(_logger, ex, "starting the runs of schedules", wait);
            }

            try
            {
                await Task.WhenAny(changed, Task.Delay(wait, TimeProvider, stopping)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Handles one schedule as it was at <paramref name="now"/>: its trigger request, then its due slots by its policies. Returns its next slot, or null.</summary>
    private async Task<DateTimeOffset?> HandleScheduleAsync(IScheduleStore schedules, ScheduleRecord schedule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var flow = _flows[schedule.FlowName].Newest;
        if (schedule.TriggeredAt is { } triggeredAt
            && await StartSlotAsync(schedule, flow, ScheduleSlots.TriggeredRecoveryId(schedule.Name, triggeredAt), triggeredAt, cancellationToken).ConfigureAwait(false) is { } triggered)
        {
            await schedules.ClearScheduleTriggerAsync(schedule.Name, triggeredAt, triggered.Id, cancellationToken).ConfigureAwait(false);
            Log.ScheduleTriggered(_logger, schedule.Name, triggered.Id, flow.Name, triggeredAt);
        }

        if (schedule.Paused || schedule.NextSlotAt is not { } first)
        {
            return null;
        }

        if (first > now)
        {
            return first;
        }

        var (due, next) = ScheduleSlots.Due(schedule.Spec, first, now);
        var chosen = ScheduleSlots.Choose(due, now, schedule.Options);
        if (chosen.Count > 0 && schedule.Options.Overlap != OverlapPolicy.Allow && await UnfinishedRunAsync(schedule, cancellationToken).ConfigureAwait(false) is { } previous)
        {
            if (schedule.Options.Overlap == OverlapPolicy.Queue)
            {
                return now + _options.PollInterval; // The slot waits for the previous run to end.
            }

            if (await schedules.AdvanceScheduleAsync(schedule.Name, first, next, due[^1], null, cancellationToken).ConfigureAwait(false))
            {
                Log.ScheduleSlotsSkipped(_logger, schedule.Name, due.Count, due[^1], $"its previous run {previous} has not finished (overlap policy Skip)");
            }

            return next;
        }

        RunId? last = null;
        foreach (var slot in chosen)
        {
            if (await StartSlotAsync(schedule, flow, ScheduleSlots.RecoveryId(schedule.Name, slot), slot, cancellationToken).ConfigureAwait(false) is { } run)
            {
                last = run.Id;
                Log.ScheduleSlotStarted(_logger, schedule.Name, run.Id, flow.Name, slot);
            }
        }

        if (await schedules.AdvanceScheduleAsync(schedule.Name, first, next, due[^1], last, cancellationToken).ConfigureAwait(false) && due.Count > chosen.Count)
        {
            Log.ScheduleSlotsSkipped(_logger, schedule.Name, due.Count - chosen.Count, due[^1],
                $"missed while no engine could start them (missed-slot policy {schedule.Options.MissedSlots})");
        }

        return next;
    }

    /// <summary>The schedule's last run if it has not finished.</summary>
    private async Task<RunId?> UnfinishedRunAsync(ScheduleRecord schedule, CancellationToken cancellationToken) =>
        schedule.LastRunId is { } id && await Store.GetRunAsync(id, cancellationToken).ConfigureAwait(false) is { } run && !run.Status.IsFinished() ? id : null;

    /// <summary>Starts a slot's run (once: the recovery ID names the slot); null when the schedule's input cannot be read.</summary>
    private async Task<RunRecord?> StartSlotAsync(ScheduleRecord schedule, FlowDefinition flow, string recoveryId, DateTimeOffset slot, CancellationToken cancellationToken)
    {
        try
        {
            return await flow.StartScheduledAsync(this, schedule.Input, recoveryId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StateSerializationException or RecoveryIdConflictException or System.Text.Json.JsonException or NotSupportedException)
        {
            Log.ScheduleFailed(_logger, ex, schedule.Name, slot, ex.Message);
            return null;
        }
    }

    /// <summary>Starts a schedule's run from its serialized input; a run that exists for the recovery ID is left as it is.</summary>
    internal async Task<RunRecord> StartScheduledRunAsync<TState>(Flow<TState> flow, ReadOnlyMemory<byte> input, string recoveryId, CancellationToken cancellationToken)
    {
        TState state;
        try
        {
            state = _options.Serializer.Deserialize<TState>(input.Span);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new StateSerializationException($"The schedule's input for flow {flow} cannot be read as {typeof(TState).Name}: {ex.Message}", innerException: ex);
        }

        return (await StartRunCoreAsync(flow, state, recoveryId, RunId.New(), cancellationToken, rerunFailed: false).ConfigureAwait(false)).Run;
    }
}
