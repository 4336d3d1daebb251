using System.Diagnostics;
using Cairn.CrashTest.Harness;
using Npgsql;

namespace Cairn.CrashTest.Chaos;

internal sealed partial class ChaosDriver
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);

    /// <summary>Every 10 s a progress line; meanwhile, a node that exited by itself is started again.</summary>
    private async Task WatchAsync(IReadOnlyList<ChaosNode> nodes, FaultInjector injector, string admin, Stopwatch soak, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Tick);
        var next = TimeSpan.FromSeconds(10);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await RestartExitedAsync(nodes, injector, stop);
                if (soak.Elapsed >= next)
                {
                    next += TimeSpan.FromSeconds(10);
                    if (await TryCountAsync(admin, stop) is { } counts)
                    {
                        console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                            $"[grey]{soak.Elapsed.TotalSeconds,7:F1} s[/] {counts.Started} runs, {counts.Completed} completed, {counts.Unfinished} under way"));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The soak's load phase is over.
        }
    }

    /// <summary>Waits until every run has ended and the outbox is empty, or the drain timeout has passed.</summary>
    private async Task DrainAsync(IReadOnlyList<ChaosNode> nodes, FaultInjector injector, string admin, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Tick);
        var clock = Stopwatch.StartNew();
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await RestartExitedAsync(nodes, injector, cancellationToken);
            if (await TryCountAsync(admin, cancellationToken) is { Unfinished: 0, Outbox: 0 })
            {
                return;
            }

            if (clock.Elapsed > settings.DrainTimeout)
            {
                console.MarkupLine($"[red]The runs did not all end within the drain timeout ({settings.DrainTimeout.TotalSeconds:F0} s).[/]");
                return;
            }
        }
    }

    private static async Task RestartExitedAsync(IReadOnlyList<ChaosNode> nodes, FaultInjector injector, CancellationToken cancellationToken)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            if (nodes[i].NeedsRestart)
            {
                await injector.RestartExitedAsync(nodes[i], i, cancellationToken);
            }
        }
    }

    /// <summary>Checks every checkpoint in the store against its checksum, while the nodes write (a consistent snapshot).</summary>
    private async Task CheckStoreAsync(string admin, string when)
    {
        for (var tries = 0; tries < 5; tries++)
        {
            var violations = new List<Violation>();
            try
            {
                await using var connection = new NpgsqlConnection(admin);
                await connection.OpenAsync();
                var verified = StoreRows.VerifyCheckpoints(connection, "cairn.", when, violations);
                lock (_violations)
                {
                    _storeChecks++;
                    _checkpointsVerified += verified;
                    _violations.AddRange(violations);
                }

                return;
            }
            catch (NpgsqlException)
            {
                // The database is restarting: look again in a moment.
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private static async Task<(long Started, long Completed, long Unfinished, long Outbox)?> TryCountAsync(string admin, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FILTER (WHERE recovery_id LIKE 'chaos-%'), " +
                $"count(*) FILTER (WHERE recovery_id LIKE 'chaos-%' AND status = {(int)RunStatus.Completed}), " +
                $"count(*) FILTER (WHERE status NOT IN ({(int)RunStatus.Completed}, {(int)RunStatus.Failed}, {(int)RunStatus.Cancelled}, {(int)RunStatus.Compensated})), " +
                "(SELECT count(*) FROM cairn.outbox) FROM cairn.runs", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        }
        catch (NpgsqlException)
        {
            return null;
        }
    }

    /// <summary>The soak's runs completed per 10 seconds, by the database's clock, from <paramref name="start"/>.</summary>
    private static async Task<IReadOnlyList<ThroughputBucket>> ThroughputAsync(string admin, DateTime start, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT floor(extract(epoch FROM finished_at - @start) / 10)::int AS bucket, count(*) FROM cairn.runs " +
            $"WHERE status = {(int)RunStatus.Completed} AND recovery_id LIKE 'chaos-%' GROUP BY bucket ORDER BY bucket", connection);
        command.Parameters.AddWithValue("start", start);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<int, int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetInt32(0)] = (int)reader.GetInt64(1);
        }

        return counts.Count == 0 ? [] : [.. Enumerable.Range(0, counts.Keys.Max() + 1).Select(b => new ThroughputBucket(b * 10, counts.GetValueOrDefault(b)))];
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
