namespace Cairn.Storage;

public sealed partial class InMemoryRunStore
{
    private readonly Dictionary<string, ScheduleRecord> _schedules = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ScheduleRecord>>([.. _schedules.Values.OrderBy(s => s.Name, StringComparer.Ordinal)]);
        }
    }

    /// <inheritdoc />
    public Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_schedules.GetValueOrDefault(name));
        }
    }

    /// <inheritdoc />
    public Task SaveScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        lock (_lock)
        {
            var now = _timeProvider.GetUtcNow();
            var created = _schedules.TryGetValue(schedule.Name, out var existing) ? existing.CreatedAt : now;
            _schedules[schedule.Name] = schedule with { Input = schedule.Input.ToArray(), CreatedAt = created, UpdatedAt = now };
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_schedules.Remove(name));
        }
    }

    /// <inheritdoc />
    public Task<bool> AdvanceScheduleAsync(
        string name, DateTimeOffset? expectedNextSlot, DateTimeOffset? nextSlot, DateTimeOffset? lastSlot, RunId? lastRunId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_schedules.TryGetValue(name, out var schedule) || schedule.NextSlotAt != expectedNextSlot)
            {
                return Task.FromResult(false);
            }

            _schedules[name] = schedule with
            {
                NextSlotAt = nextSlot,
                LastSlotAt = lastSlot ?? schedule.LastSlotAt,
                LastRunId = lastRunId ?? schedule.LastRunId,
                UpdatedAt = _timeProvider.GetUtcNow(),
            };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<bool> ClearScheduleTriggerAsync(string name, DateTimeOffset triggeredAt, RunId runId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_schedules.TryGetValue(name, out var schedule) || schedule.TriggeredAt != triggeredAt)
            {
                return Task.FromResult(false);
            }

            _schedules[name] = schedule with { TriggeredAt = null, LastRunId = runId, UpdatedAt = _timeProvider.GetUtcNow() };
            return Task.FromResult(true);
        }
    }
}
