using Cairn.Schedules;

namespace Cairn.Runs;

public sealed partial class RunOperator
{
    private IScheduleStore Schedules => _store as IScheduleStore ?? throw NotAnOperatorStore(_store, nameof(IScheduleStore));

    /// <summary>Every schedule in the store, by name, with its next slot and last run.</summary>
    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken = default) =>
        Schedules.ListSchedulesAsync(cancellationToken);

    /// <summary>The schedule of that name; null for none.</summary>
    public Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        Schedules.GetScheduleAsync(name, cancellationToken);

    /// <summary>
    /// Creates or changes a schedule at run time: it starts runs of the flow named <paramref name="flowName"/> with
    /// <paramref name="input"/> (serialized with <see cref="RunOperatorOptions.Serializer"/>) at every slot of
    /// <paramref name="spec"/>, its first slot after now, on any engine that serves the flow.
    /// </summary>
    /// <exception cref="ArgumentException">The name or the options are invalid.</exception>
    /// <exception cref="InvalidOperationException">A schedule of that name is defined in code: change it there.</exception>
    public Task<ScheduleRecord> SaveScheduleAsync<TInput>(
        string name, string flowName, TInput input, ScheduleSpec spec, ScheduleOptions? options = null, CancellationToken cancellationToken = default) =>
        SaveScheduleJsonAsync(name, flowName, _options.Serializer.Serialize(input), spec, options, cancellationToken);

    /// <summary>Creates or changes a schedule whose input is already serialized (JSON); see <see cref="SaveScheduleAsync{TInput}"/>.</summary>
    /// <exception cref="ArgumentException">The name, the flow's name or the options are invalid, or the input is empty.</exception>
    /// <exception cref="InvalidOperationException">A schedule of that name is defined in code: change it there.</exception>
    public async Task<ScheduleRecord> SaveScheduleJsonAsync(
        string name, string flowName, ReadOnlyMemory<byte> input, ScheduleSpec spec, ScheduleOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(flowName);
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new ScheduleOptions();
        if ((ScheduleNames.FindProblem(name) ?? options.FindProblem()) is { } problem)
        {
            throw new ArgumentException($"Schedule '{name}': {problem}.", nameof(name));
        }

        if (input.IsEmpty)
        {
            throw new ArgumentException($"The input of schedule '{name}' is empty; give the runs' input as JSON.", nameof(input));
        }

        var schedules = Schedules;
        var existing = await schedules.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false);
        if (existing is { DefinedInCode: true })
        {
            throw new InvalidOperationException($"Schedule '{name}' is defined in code (AddSchedule); change it there, and the next engine to start updates it.");
        }

        var now = _options.TimeProvider.GetUtcNow();
        var schedule = (existing ?? new ScheduleRecord(name, flowName, input, spec)) with
        {
            FlowName = flowName,
            Input = input.ToArray(),
            Spec = spec,
            Options = options,
            NextSlotAt = existing is not null && existing.Spec.Equals(spec) ? existing.NextSlotAt : spec.NextAfter(now),
        };
        await schedules.SaveScheduleAsync(schedule, cancellationToken).ConfigureAwait(false);
        _host?.SchedulesChanged();
        return await schedules.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false) ?? schedule;
    }

    /// <summary>Pauses a schedule: it starts nothing, and its slots pass unstarted, until it is resumed.</summary>
    /// <exception cref="ScheduleNotFoundException">No schedule has that name.</exception>
    public Task<ScheduleRecord> PauseScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        ChangeScheduleAsync(name, schedule => schedule with { Paused = true }, cancellationToken);

    /// <summary>
    /// Resumes a paused schedule from its first slot after now: the slots that passed while it was paused are skipped.
    /// </summary>
    /// <exception cref="ScheduleNotFoundException">No schedule has that name.</exception>
    public Task<ScheduleRecord> ResumeScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        ChangeScheduleAsync(
            name,
            schedule => schedule.Paused ? schedule with { Paused = false, NextSlotAt = schedule.Spec.NextAfter(_options.TimeProvider.GetUtcNow()) } : schedule,
            cancellationToken);

    /// <summary>
    /// Asks for a run of the schedule now, outside its slots and whatever its overlap policy, paused or not: the next engine
    /// serving its flow to look starts it, with the recovery ID <c>schedule:NAME:manual:TIME</c>.
    /// </summary>
    /// <exception cref="ScheduleNotFoundException">No schedule has that name.</exception>
    public Task<ScheduleRecord> TriggerScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        ChangeScheduleAsync(name, schedule => schedule with { TriggeredAt = schedule.TriggeredAt ?? _options.TimeProvider.GetUtcNow() }, cancellationToken);

    /// <summary>
    /// Deletes a schedule; its runs are left as they are. A schedule defined in code comes back when the next engine whose
    /// code defines it starts.
    /// </summary>
    /// <exception cref="ScheduleNotFoundException">No schedule has that name.</exception>
    public async Task DeleteScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!await Schedules.DeleteScheduleAsync(name, cancellationToken).ConfigureAwait(false))
        {
            throw new ScheduleNotFoundException(name);
        }
    }

    private async Task<ScheduleRecord> ChangeScheduleAsync(string name, Func<ScheduleRecord, ScheduleRecord> change, CancellationToken cancellationToken)
    {
        var schedules = Schedules;
        var schedule = await schedules.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false) ?? throw new ScheduleNotFoundException(name);
        var changed = change(schedule);
        if (changed != schedule)
        {
            await schedules.SaveScheduleAsync(changed, cancellationToken).ConfigureAwait(false);
            _host?.SchedulesChanged();
        }

        return await schedules.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false) ?? changed;
    }
}

/// <summary>No schedule with the given name exists in the store.</summary>
public sealed class ScheduleNotFoundException : CairnException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="name">The schedule's name.</param>
    public ScheduleNotFoundException(string name)
        : base($"No schedule is named '{name}'; 'cairn schedules list' shows them.")
    {
        Name = name;
    }

    /// <summary>The name asked for.</summary>
    public string Name { get; }
}
