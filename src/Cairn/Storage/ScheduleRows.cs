using System.Data.Common;
using Cairn.Schedules;

namespace Cairn.Storage;

/// <summary>
/// A schedule's row as every store selects it (name, flow, input, spec, the three policy columns, paused, next slot,
/// last slot, last run, trigger, defined in code, created, updated), read into a <see cref="ScheduleRecord"/>. Each store
/// says how it keeps a time and a run ID.
/// </summary>
internal static class ScheduleRows
{
    /// <summary>Reads the row the reader is on; <paramref name="time"/> returns null for a NULL column.</summary>
    public static ScheduleRecord Read<TReader>(TReader reader, Func<TReader, int, DateTimeOffset?> time, Func<TReader, int, RunId> runId)
        where TReader : DbDataReader =>
        new(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2), ScheduleSpec.Parse(reader.GetString(3)))
        {
            Options = new ScheduleOptions { MissedSlots = (MissedSlotPolicy)reader.GetInt32(4), MissedSlotLimit = reader.GetInt32(5), Overlap = (OverlapPolicy)reader.GetInt32(6) },
            Paused = reader.GetBoolean(7),
            NextSlotAt = time(reader, 8),
            LastSlotAt = time(reader, 9),
            LastRunId = reader.IsDBNull(10) ? null : runId(reader, 10),
            TriggeredAt = time(reader, 11),
            DefinedInCode = reader.GetBoolean(12),
            CreatedAt = time(reader, 13) ?? throw new InvalidDataException("A schedule row has no creation time."),
            UpdatedAt = time(reader, 14) ?? throw new InvalidDataException("A schedule row has no update time."),
        };
}
