using Cairn.Cli.Demo;
using Cairn.CrashTest.Harness;
using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary><c>cairn serve</c>, run as a real process: a headless node for the tool's own demo flow (order import).</summary>
public sealed class ServeDemoTests : IDisposable
{
    private const int Orders = 300;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-serve-").FullName;

    private string StorePath => Path.Combine(_dir, "cairn.db");

    [Fact]
    public async Task Serve_SqliteStore_ExecutesADemoRunAsItsNodeAndStopsOnSigterm()
    {
        SampleData.WriteOrdersCsv(Path.Combine(_dir, "orders.csv"), Orders);
        var flow = OrderImportFlow.Create();
        var input = new OrderImportState
        {
            CsvPath = Path.Combine(_dir, "orders.csv"),
            TargetDatabase = Path.Combine(_dir, "orders.db"),
            SummaryPath = Path.Combine(_dir, "summary.txt"),
        };
        await using var store = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath });
        await store.InitializeAsync(CancellationToken.None);
        var id = (await store.CreateRunAsync(NewRuns.For(flow, input, "serve-demo"), CancellationToken.None)).Run.Id;

        using var node = DotnetProgram.Start("Cairn.Cli.dll", "serve", "--store", StorePath, "--node", "demo-node");
        var started = await node.WaitForLineAsync("cairn serve: node demo-node");
        Assert.Contains("serving 1 flow(s)", started, StringComparison.Ordinal);
        await StoreWaits.UntilAsync(
            async () => (await store.GetRunAsync(id, CancellationToken.None))?.Status == RunStatus.Completed,
            Timeout,
            "the node to complete the demo run");

        Assert.Equal("demo-node", (await store.GetRunAsync(id, CancellationToken.None))!.Owner);
        Assert.Contains($"orders loaded: {SampleData.ValidCount(Orders)}", await File.ReadAllTextAsync(input.SummaryPath), StringComparison.Ordinal);
        await node.TerminateAsync();
        Assert.Equal(0, await node.WaitForExitAsync());
        Assert.Contains(node.Lines, line => line.StartsWith("cairn serve: node demo-node stopped", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
