using Cairn.Runs;
using Cairn.Storage;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.CrashTests;

/// <summary>
/// The PartnerDownload sample (ASTERIA's "saving remote data" example) in a real child process, SIGKILLed while its
/// stream is being written (mid-download) and while it is being read (mid-insert), then run again in the same folder.
/// </summary>
public sealed class PartnerDownloadCrashTests : IDisposable
{
    private const int Rows = 30_000;
    private const string Sample = "Cairn.Samples.PartnerDownload.dll";
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-partner-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task KilledWhileReadingTheSavedFileDuringTheInsert_ResumesWithoutDownloadingAgain_AndInsertsEveryRowOnce()
    {
        using (var first = DotnetProgram.StartIn(_dir, Sample, "--rows", $"{Rows}", "--pause-after-rows", "5000"))
        {
            await first.WaitForLineAsync("PAUSED after 5000 rows");
            await first.KillAsync();
        }

        Assert.Equal(5000, await CountRowsAsync());
        var run = await FindRunAsync();
        Assert.Equal((RunStatus.Running, "downloaded", "download successful"), (run.Status, run.LastRecoveryPoint, run.StatusMessage));

        var output = await CompleteAsync();

        Assert.Contains("downloads served by the partner this time: 0", output, StringComparison.Ordinal);
        Assert.Contains($"rows in partner_orders: {Rows}", output, StringComparison.Ordinal);
        Assert.Equal((Rows, Rows), await CountRowsAndDistinctAsync());
        Assert.Single(StoredContents());
    }

    [Fact]
    public async Task KilledWhileTheFileIsBeingWrittenDuringTheDownload_DownloadsAgain_AndKeepsOneStoredCopy()
    {
        using (var first = DotnetProgram.StartIn(_dir, Sample, "--rows", $"{Rows}", "--pause-download-after-rows", "10000"))
        {
            await first.WaitForLineAsync("PAUSED download after 10000 rows");
            await first.KillAsync();
        }

        var run = await FindRunAsync();
        Assert.Equal((RunStatus.Running, null), (run.Status, run.LastRecoveryPoint));
        Assert.Empty(StoredContents()); // The partial download is in tmp/, never under its hash.

        var output = await CompleteAsync();

        Assert.Contains("downloads served by the partner this time: 1", output, StringComparison.Ordinal);
        Assert.Contains($"rows in partner_orders: {Rows}", output, StringComparison.Ordinal);
        Assert.Equal((Rows, Rows), await CountRowsAndDistinctAsync());
        Assert.Single(StoredContents());
    }

    [Fact]
    public async Task RunAgainAfterCompleting_ReportsTheRunAsDone_WithoutDownloadingOrInserting()
    {
        await CompleteAsync();

        var output = await CompleteAsync();

        Assert.Contains("Completed (already): ", output, StringComparison.Ordinal);
        Assert.Contains("downloads served by the partner this time: 0", output, StringComparison.Ordinal);
        Assert.Equal((Rows, Rows), await CountRowsAndDistinctAsync());
    }

    private async Task<string> CompleteAsync()
    {
        var (exitCode, output, errors) = await DotnetProgram.RunAsync(Sample, _dir, TimeSpan.FromSeconds(120), "--rows", $"{Rows}");
        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}\n{errors}");
        return output;
    }

    private string[] StoredContents()
    {
        var contents = Path.Combine(_dir, "partner-streams", "sha256");
        return Directory.Exists(contents) ? Directory.GetFiles(contents, "*", SearchOption.AllDirectories) : [];
    }

    private async Task<RunRecord> FindRunAsync()
    {
        await using var store = new SqliteRunStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "partner.db"), ReadOnly = true });
        var runs = await store.ListRunsAsync(new RunQuery(), CancellationToken.None);
        return Assert.Single(runs);
    }

    private async Task<long> CountRowsAsync() => (await CountRowsAndDistinctAsync()).Rows;

    private async Task<(long Rows, long Distinct)> CountRowsAndDistinctAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "partner-orders.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COUNT(DISTINCT order_id) FROM partner_orders";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
