using Cairn.Sqlite;

namespace Cairn.Testing.Tests;

/// <summary>The crash kit over a SQLite file: the resuming engine opens the file again, as a restarted process does.</summary>
public sealed class SqliteCrashKitTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cairn-testing-").FullName;
    private readonly TestFlows _flows = new();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task RunWithCrashAsync_SqliteFile_ResumesFromTheFileAndCompletes()
    {
        var path = Path.Combine(_folder, "crash.db");
        var kit = new CrashKit(b => b.UseSqlite(path));

        var result = await kit.RunWithCrashAsync(_flows.Purchase(), new Order(), CrashAt.Stage("charge"));

        Assert.Equal("charge", result.CrashedAt!.Name);
        Assert.True(result.Outcome.IsCompleted, result.Outcome.Error);
        Assert.Equal(["reserve", "charge", "notify"], result.Journal.Select(e => e.Stage));
        Assert.Equal([1, 2, 2], result.Journal.Select(e => e.Attempt));
        Assert.Equal(1, _flows.CountOutside(result.Outcome.RunId, "reserve"));
        result.AssertRecovered();
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task SweepAsync_SqliteFile_EveryCaseRecovers()
    {
        var path = Path.Combine(_folder, "sweep.db");
        var kit = new CrashKit(b => b.UseSqlite(path));

        var report = await kit.SweepAsync(_flows.Order(), new Order(), c =>
        {
            c.AssertRecovered();
            Assert.True(c.State!.Closed);
            Assert.Equal("1 parcel(s)", c.State.Shipment);
        });

        Assert.Equal(21, report.CasesRun);
    }
}
