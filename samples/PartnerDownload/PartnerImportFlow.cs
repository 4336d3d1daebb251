using System.Globalization;
using Cairn.Flows;
using Microsoft.Data.Sqlite;

namespace PartnerDownload;

/// <summary>
/// What the import run carries: where its rows go, and how far it got. The partner's address is not part of it: it is
/// configuration, and may change between a crash and the resume without making the run another one.
/// </summary>
public sealed class PartnerImport
{
    public string TargetDatabase { get; set; } = "";

    public long DownloadedBytes { get; set; }

    public int Inserted { get; set; }
}

/// <summary>
/// ASTERIA's "saving remote data" example as a Cairn flow: download the partner's file, save it with a recovery point as
/// a stream ("download successful"), insert its rows into a database. A run that fails or is killed after the recovery
/// point resumes from the saved file: it never downloads again.
/// </summary>
public static class PartnerImportFlow
{
    public const string FileStream = "orders.csv";

    /// <param name="http">The client the download uses.</param>
    /// <param name="fileAddress">Where the partner serves the file.</param>
    /// <param name="pauseAfterRows">Stops the insert after this many rows and waits there, to be killed (for the crash test); 0 never.</param>
    public static Flow<PartnerImport> Create(HttpClient http, Uri fileAddress, int pauseAfterRows = 0) =>
        Flow.Create<PartnerImport>("partner-import")
            .Stage("download", async (context, ct) =>
            {
                using var response = await http.GetAsync(fileAddress, HttpCompletionOption.ResponseHeadersRead, ct);
                response.EnsureSuccessStatusCode();
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                var stored = await context.Streams.PutAsync(FileStream, body, ct); // Streamed into the store, never whole in memory.
                context.State.DownloadedBytes = stored.Length;
            })
            .RecoveryPoint("downloaded", "download successful")
            .Stage("insert", (context, ct) => InsertAsync(context, pauseAfterRows, ct))
            .Build();

    /// <summary>
    /// Inserts the file's rows in batches of 1,000, one transaction each. A batch that ran before a crash runs again:
    /// <c>INSERT OR IGNORE</c> on the order ID keeps each row once.
    /// </summary>
    private static async Task InsertAsync(StageContext<PartnerImport> context, int pauseAfterRows, CancellationToken ct)
    {
        await using var connection = new SqliteConnection($"Data Source={context.State.TargetDatabase};Pooling=False");
        await connection.OpenAsync(ct);
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS partner_orders (order_id TEXT PRIMARY KEY, customer TEXT, sku TEXT, quantity INTEGER, price TEXT)";
            await create.ExecuteNonQueryAsync(ct);
        }

        await using var file = await context.Streams.OpenAsync(FileStream, ct);
        using var reader = new StreamReader(file);
        await reader.ReadLineAsync(ct); // The header.
        var rows = 0;
        var line = await reader.ReadLineAsync(ct);
        while (line is not null)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT OR IGNORE INTO partner_orders VALUES ($id, $customer, $sku, $quantity, $price)";
            var parameters = new[] { "$id", "$customer", "$sku", "$quantity", "$price" }.Select(n => insert.Parameters.Add(n, SqliteType.Text)).ToArray();
            for (var batch = 0; batch < 1000 && line is not null; batch++, rows++, line = await reader.ReadLineAsync(ct))
            {
                var fields = line.Split(',');
                for (var f = 0; f < parameters.Length; f++)
                {
                    parameters[f].Value = fields[f];
                }

                await insert.ExecuteNonQueryAsync(ct);
            }

            await transaction.CommitAsync(ct);
            if (pauseAfterRows > 0 && rows >= pauseAfterRows)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PAUSED after {rows} rows"));
                await Task.Delay(Timeout.Infinite, ct);
            }
        }

        context.State.Inserted = rows;
        context.StatusMessage = string.Create(CultureInfo.InvariantCulture, $"{rows:N0} orders inserted");
    }
}
