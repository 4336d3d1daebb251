namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    /// <inheritdoc />
    public Task RecordFlowsAsync(IReadOnlyList<FlowRecord> flows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flows);
        return WriteAsync((connection, transaction, _) =>
        {
            using var upsert = Command(connection, transaction,
                "INSERT INTO flows (name, version, fingerprint, structure, recorded_at, recorded_by) " +
                "VALUES ($name, $version, $fingerprint, $structure, $recorded_at, $recorded_by) " +
                "ON CONFLICT (name, version, fingerprint) DO UPDATE SET structure = excluded.structure, recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by");
            var name = Bind(upsert, "$name", "");
            var version = Bind(upsert, "$version", 0);
            var fingerprint = Bind(upsert, "$fingerprint", "");
            var structure = Bind(upsert, "$structure", "");
            var recordedAt = Bind(upsert, "$recorded_at", 0L);
            var recordedBy = Bind(upsert, "$recorded_by", "");
            foreach (var flow in flows)
            {
                name.Value = flow.Name;
                version.Value = flow.Version;
                fingerprint.Value = flow.Fingerprint;
                structure.Value = flow.Structure;
                recordedAt.Value = Ticks(flow.RecordedAt);
                recordedBy.Value = flow.RecordedBy;
                upsert.ExecuteNonQuery();
            }

            return flows.Count;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<FlowRecord>> ListFlowsAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<FlowRecord>>(connection =>
        {
            using var command = Command(connection, null,
                "SELECT name, version, fingerprint, structure, recorded_at, recorded_by FROM flows ORDER BY name, version, recorded_at");
            return ReadRows(command, reader => new FlowRecord(
                reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), Time(reader.GetInt64(4)), reader.GetString(5)));
        }, cancellationToken);
}
