using Cairn.Schedules;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore : IScheduleStore
{
    private const string ScheduleColumns =
        "name, flow_name, input, spec, missed, missed_limit, overlap, paused, next_slot_at, last_slot_at, last_run_id, triggered_at, defined_in_code, created_at, updated_at";

    /// <inheritdoc />
    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ScheduleRecord>>(connection =>
        {
            using var command = Command(connection, null, $"SELECT {ScheduleColumns} FROM schedules ORDER BY name");
            return ReadRows(command, ReadSchedule);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            using var command = Command(connection, null, $"SELECT {ScheduleColumns} FROM schedules WHERE name = $name");
            Bind(command, "$name", name);
            return ReadRows(command, ReadSchedule) is [var schedule] ? schedule : null;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SaveScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return WriteAsync((connection, transaction, now) =>
        {
            using var command = Command(connection, transaction,
                $"INSERT INTO schedules ({ScheduleColumns}) VALUES ($name, $flow_name, $input, $spec, $missed, $missed_limit, $overlap, $paused, " +
                "$next_slot_at, $last_slot_at, $last_run_id, $triggered_at, $defined_in_code, $now, $now) " +
                "ON CONFLICT (name) DO UPDATE SET flow_name = excluded.flow_name, input = excluded.input, spec = excluded.spec, missed = excluded.missed, " +
                "missed_limit = excluded.missed_limit, overlap = excluded.overlap, paused = excluded.paused, next_slot_at = excluded.next_slot_at, " +
                "last_slot_at = excluded.last_slot_at, last_run_id = excluded.last_run_id, triggered_at = excluded.triggered_at, " +
                "defined_in_code = excluded.defined_in_code, updated_at = excluded.updated_at");
            foreach (var (parameter, value) in new (string, object?)[]
            {
                ("$name", schedule.Name), ("$flow_name", schedule.FlowName), ("$input", Bytes(schedule.Input)), ("$spec", schedule.Spec.ToString()),
                ("$missed", (int)schedule.Options.MissedSlots), ("$missed_limit", schedule.Options.MissedSlotLimit), ("$overlap", (int)schedule.Options.Overlap),
                ("$paused", schedule.Paused), ("$next_slot_at", OptionalTicks(schedule.NextSlotAt)), ("$last_slot_at", OptionalTicks(schedule.LastSlotAt)),
                ("$last_run_id", schedule.LastRunId is { } run ? Key(run) : null), ("$triggered_at", OptionalTicks(schedule.TriggeredAt)),
                ("$defined_in_code", schedule.DefinedInCode), ("$now", Ticks(now)),
            })
            {
                Bind(command, parameter, value);
            }

            return command.ExecuteNonQuery();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken) =>
        ChangeScheduleAsync("DELETE FROM schedules WHERE name = $name", name, _ => { }, cancellationToken);

    /// <inheritdoc />
    public Task<bool> AdvanceScheduleAsync(
        string name, DateTimeOffset? expectedNextSlot, DateTimeOffset? nextSlot, DateTimeOffset? lastSlot, RunId? lastRunId, CancellationToken cancellationToken) =>
        ChangeScheduleAsync(
            "UPDATE schedules SET next_slot_at = $next, last_slot_at = COALESCE($last_slot, last_slot_at), last_run_id = COALESCE($last_run, last_run_id), " +
            "updated_at = $now WHERE name = $name AND next_slot_at IS $expected",
            name,
            command =>
            {
                Bind(command, "$expected", OptionalTicks(expectedNextSlot));
                Bind(command, "$next", OptionalTicks(nextSlot));
                Bind(command, "$last_slot", OptionalTicks(lastSlot));
                Bind(command, "$last_run", lastRunId is { } run ? Key(run) : null);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<bool> ClearScheduleTriggerAsync(string name, DateTimeOffset triggeredAt, RunId runId, CancellationToken cancellationToken) =>
        ChangeScheduleAsync(
            "UPDATE schedules SET triggered_at = NULL, last_run_id = $run, updated_at = $now WHERE name = $name AND triggered_at = $triggered",
            name,
            command =>
            {
                Bind(command, "$triggered", Ticks(triggeredAt));
                Bind(command, "$run", Key(runId));
            },
            cancellationToken);

    private Task<bool> ChangeScheduleAsync(string sql, string name, Action<SqliteCommand> bind, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            using var command = Command(connection, transaction, sql);
            Bind(command, "$name", name);
            Bind(command, "$now", Ticks(now));
            bind(command);
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken);

    private static long? OptionalTicks(DateTimeOffset? time) => time is { } at ? Ticks(at) : null;

    private static DateTimeOffset? OptionalTime(SqliteDataReader reader, int column) => reader.IsDBNull(column) ? null : Time(reader.GetInt64(column));

    private static ScheduleRecord ReadSchedule(SqliteDataReader reader) =>
        ScheduleRows.Read(reader, OptionalTime, static (row, column) => RunKey(row.GetString(column)));
}
