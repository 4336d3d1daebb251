namespace Cairn.Postgres;

public sealed partial class PostgresRunStore : ISignalStore
{
    /// <inheritdoc />
    public Task<bool> SendSignalAsync(RunId runId, RunSignal signal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return WriteAsync(
            _sql.SendSignal,
            parameters =>
            {
                Add(parameters, "run_id", runId.Value);
                Add(parameters, "signal_id", signal.Id);
                Add(parameters, "name", signal.Name);
                Add(parameters, "payload", signal.Payload);
                Add(parameters, "message", StoreRules.SignalledMessage(signal));
            },
            async reader =>
            {
                if (!await reader.ReadAsync().ConfigureAwait(false))
                {
                    throw new RunNotFoundException(runId);
                }

                StoreRules.EnsureCanSignal(runId, (RunStatus)reader.GetInt32(0));
                return reader.GetBoolean(1);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunSignal>> ListSignalsAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadListAsync(
            _sql.ListSignals,
            parameters => Add(parameters, "run_id", runId.Value),
            reader => new RunSignal(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2))
            {
                SentAt = Time(reader, 3),
                TakenBy = reader.IsDBNull(4) ? null : reader.GetInt64(4),
            },
            cancellationToken);
}
