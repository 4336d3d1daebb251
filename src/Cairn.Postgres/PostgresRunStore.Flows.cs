using Npgsql;
using NpgsqlTypes;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore
{
    /// <inheritdoc />
    /// <remarks>All flows in one statement: nodes starting together each upsert their rows without waiting for a lock.</remarks>
    public async Task RecordFlowsAsync(IReadOnlyList<FlowRecord> flows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flows);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (flows.Count == 0)
        {
            return;
        }

        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                using var command = new NpgsqlCommand(
                    $"""
                    INSERT INTO {FlowsTable} (name, version, fingerprint, structure, recorded_at, recorded_by)
                    SELECT * FROM unnest(@names, @versions, @fingerprints, @structures, @recorded_at, @recorded_by)
                    ON CONFLICT (name, version, fingerprint) DO UPDATE
                        SET structure = excluded.structure, recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by
                    """,
                    connection);
                command.Parameters.Add(new NpgsqlParameter<string[]>("names", [.. flows.Select(f => f.Name)]));
                command.Parameters.Add(new NpgsqlParameter<int[]>("versions", [.. flows.Select(f => f.Version)]));
                command.Parameters.Add(new NpgsqlParameter<string[]>("fingerprints", [.. flows.Select(f => f.Fingerprint)]));
                command.Parameters.Add(new NpgsqlParameter<string[]>("structures", [.. flows.Select(f => f.Structure)]));
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("recorded_at", [.. flows.Select(f => f.RecordedAt.ToUniversalTime())])
                {
                    NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
                });
                command.Parameters.Add(new NpgsqlParameter<string[]>("recorded_by", [.. flows.Select(f => f.RecordedBy)]));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (NpgsqlException ex) when (IsUnavailable(ex))
        {
            throw Unavailable(ex);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<FlowRecord>> ListFlowsAsync(CancellationToken cancellationToken) =>
        ReadListAsync(
            $"SELECT name, version, fingerprint, structure, recorded_at, recorded_by FROM {FlowsTable} ORDER BY name, version, recorded_at",
            _ => { },
            reader => new FlowRecord(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), Time(reader, 4), reader.GetString(5)),
            cancellationToken);

    private string FlowsTable => $"\"{_sql.Schema}\".flows";
}
