using System.Globalization;
using Cairn;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;
using PartnerDownload;

// dotnet run --project samples/PartnerDownload [-- --rows N]: downloads the partner's file from a
// local server, saves it as a stream with the recovery point "download successful", inserts its rows into a database.
// Killed during the insert and run again, it resumes from the saved file without downloading again.
var rows = Option("--rows", 200_000);
// For the crash tests: stop (to be killed) in the middle of the download or of the insert.
var pauseDownload = Option("--pause-download-after-rows", 0);
var pauseAfterRows = Option("--pause-after-rows", 0);
await using var partner = await PartnerServer.StartAsync(rows, pauseDownload);
using var http = new HttpClient();
var flow = PartnerImportFlow.Create(http, partner.FileAddress, pauseAfterRows);

// The runs and checkpoints in partner.db; the downloaded files, as streams, in a storage folder beside it (ASTERIA's
// "checkpoint storage path"), which several nodes may share.
await using var engine = CairnEngine.CreateBuilder().UseSqlite("partner.db").UseStorageFolder("partner-streams").AddFlow(flow).Build();
var import = new PartnerImport { TargetDatabase = Path.GetFullPath("partner-orders.db") };

// One import a day: the date is the recovery ID, so running the sample again finds today's run and resumes or reports it.
var outcome = await engine.RunAsync(flow, import, recoveryId: $"partner-{DateTime.UtcNow:yyyy-MM-dd}");
var run = await engine.Operator.GetRunAsync(outcome.RunId);
Console.WriteLine($"{outcome.Status}{(outcome.WasAlreadyCompleted ? " (already)" : "")}: {run?.StatusMessage ?? run?.LastError}");
Console.WriteLine($"downloads served by the partner this time: {partner.Downloads}");
Console.WriteLine($"rows in partner_orders: {await CountAsync(import.TargetDatabase)}");
return outcome.IsCompleted ? 0 : 1;

int Option(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

static async Task<long> CountAsync(string path)
{
    if (!File.Exists(path))
    {
        return 0;
    }

    await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
    await connection.OpenAsync();
    await using var count = connection.CreateCommand();
    count.CommandText = "SELECT count(*) FROM partner_orders";
    return (long)(await count.ExecuteScalarAsync() ?? 0L);
}
