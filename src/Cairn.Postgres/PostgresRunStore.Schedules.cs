using Cairn.Schedules;
using Npgsql;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore : IScheduleStore
{
    private const string ScheduleColumns =
        "name, flow_name, input, spec, missed, missed_limit, overlap, paused, next_slot_at, last_slot_at, last_run_id, triggered_at, defined_in_code, created_at, updated_at";

    private string SchedulesTable => $"\"{_sql.Schema}\".schedules";

    private string Now => _testClock is null ? "now()" : "@now";

    /// <inheritdoc />
    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken) =>
        ReadListAsync($"SELECT {ScheduleColumns} FROM {SchedulesTable} ORDER BY name", _ => { }, ReadSchedule, cancellationToken);

    /// <inheritdoc />
    public async Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken) =>
        (await ReadListAsync($"SELECT {ScheduleColumns} FROM {SchedulesTable} WHERE name = @name", p => Add(p, "name", name), ReadSchedule, cancellationToken)
            .ConfigureAwait(false)) is [var schedule] ? schedule : null;

    /// <inheritdoc />
    public Task SaveScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return ChangeScheduleAsync(
            $"""
            INSERT INTO {SchedulesTable} ({ScheduleColumns})
            VALUES (@name, @flow_name, @input, @spec, @missed, @missed_limit, @overlap, @paused, @next_slot_at, @last_slot_at, @last_run_id, @triggered_at,
                @defined_in_code, {Now}, {Now})
            ON CONFLICT (name) DO UPDATE SET flow_name = EXCLUDED.flow_name, input = EXCLUDED.input, spec = EXCLUDED.spec, missed = EXCLUDED.missed,
                missed_limit = EXCLUDED.missed_limit, overlap = EXCLUDED.overlap, paused = EXCLUDED.paused, next_slot_at = EXCLUDED.next_slot_at,
                last_slot_at = EXCLUDED.last_slot_at, last_run_id = EXCLUDED.last_run_id, triggered_at = EXCLUDED.triggered_at,
                defined_in_code = EXCLUDED.defined_in_code, updated_at = EXCLUDED.updated_at
            """,
            schedule.Name,
            parameters =>
            {
                Add(parameters, "flow_name", schedule.FlowName);
                Add(parameters, "input", schedule.Input);
                Add(parameters, "spec", schedule.Spec.ToString());
                AddPolicies(parameters, schedule.Options);
                Add(parameters, "paused", schedule.Paused);
                AddPlace(parameters, schedule);
                Add(parameters, "defined_in_code", schedule.DefinedInCode);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken) =>
        ChangeScheduleAsync($"DELETE FROM {SchedulesTable} WHERE name = @name", name, _ => { }, cancellationToken);

    /// <inheritdoc />
    public Task<bool> AdvanceScheduleAsync(
        string name, DateTimeOffset? expectedNextSlot, DateTimeOffset? nextSlot, DateTimeOffset? lastSlot, RunId? lastRunId, CancellationToken cancellationToken) =>
        ChangeScheduleAsync(
            $"""
            UPDATE {SchedulesTable} SET next_slot_at = @next, last_slot_at = COALESCE(@last_slot, last_slot_at), last_run_id = COALESCE(@last_run, last_run_id),
                updated_at = {Now}
            WHERE name = @name AND next_slot_at IS NOT DISTINCT FROM @expected
            """,
            name,
            parameters =>
            {
                AddTime(parameters, "expected", expectedNextSlot);
                AddTime(parameters, "next", nextSlot);
                AddTime(parameters, "last_slot", lastSlot);
                AddRun(parameters, "last_run", lastRunId);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<bool> ClearScheduleTriggerAsync(string name, DateTimeOffset triggeredAt, RunId runId, CancellationToken cancellationToken) =>
        ChangeScheduleAsync(
            $"UPDATE {SchedulesTable} SET triggered_at = NULL, last_run_id = @run, updated_at = {Now} WHERE name = @name AND triggered_at = @triggered",
            name,
            parameters =>
            {
                AddTime(parameters, "triggered", triggeredAt);
                AddRun(parameters, "run", runId);
            },
            cancellationToken);

    // A write of one schedule row, in group commit; returns whether it changed a row.
    private async Task<bool> ChangeScheduleAsync(string sql, string name, Action<NpgsqlParameterCollection> bind, CancellationToken cancellationToken) =>
        await WriteAsync(
            $"WITH changed AS ({sql} RETURNING 1) SELECT count(*)::integer FROM changed",
            parameters =>
            {
                Add(parameters, "name", name);
                bind(parameters);
            },
            ReadCountAsync,
            cancellationToken).ConfigureAwait(false) == 1;

    // The missed-slot and overlap policies.
    private static void AddPolicies(NpgsqlParameterCollection parameters, ScheduleOptions options)
    {
        Add(parameters, "missed", (int)options.MissedSlots);
        Add(parameters, "missed_limit", options.MissedSlotLimit);
        Add(parameters, "overlap", (int)options.Overlap);
    }

    // Where the schedule is: its next and last slot, its last run, its pending trigger.
    private static void AddPlace(NpgsqlParameterCollection parameters, ScheduleRecord schedule)
    {
        AddTime(parameters, "next_slot_at", schedule.NextSlotAt);
        AddTime(parameters, "last_slot_at", schedule.LastSlotAt);
        AddRun(parameters, "last_run_id", schedule.LastRunId);
        AddTime(parameters, "triggered_at", schedule.TriggeredAt);
    }

    private static ScheduleRecord ReadSchedule(NpgsqlDataReader reader) =>
        ScheduleRows.Read(reader, NullableTime, static (row, column) => new RunId(row.GetGuid(column)));
}
