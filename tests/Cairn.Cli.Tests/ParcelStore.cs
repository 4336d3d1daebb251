using Cairn.Flows;
using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary>
/// A SQLite store in a temporary folder of its own, holding two runs of the flow <c>parcel</c>: one completed
/// (<c>parcel-ok</c>) and one failed for good after its recovery point <c>weighed</c> (<c>parcel-bad</c>); and the
/// <c>cairn</c> tool run as a real process in that folder.
/// </summary>
public sealed class ParcelStore : IDisposable
{
    private ParcelStore(string dir) => Dir = dir;

    public string Dir { get; }

    public string StorePath => Path.Combine(Dir, "cairn.db");

    public RunId Completed { get; private set; }

    public RunId Failed { get; private set; }

    public static async Task<ParcelStore> CreateAsync()
    {
        var store = new ParcelStore(Directory.CreateTempSubdirectory("cairn-cli-").FullName);
        var flow = CreateFlow();
        await using var engine = CairnEngine.CreateBuilder().UseSqlite(store.StorePath).AddFlow(flow).Build();
        store.Completed = (await engine.RunAsync(flow, new Parcel { Destination = "Oslo" }, "parcel-ok")).RunId;
        store.Failed = (await engine.RunAsync(flow, new Parcel { Destination = "nowhere" }, "parcel-bad")).RunId;
        return store;
    }

    /// <summary>The flow <c>parcel</c>: weigh, the recovery point <c>weighed</c>, label (which fails for good for the destination "nowhere").</summary>
    public static Flow<Parcel> CreateFlow() => Flow.Create<Parcel>("parcel")
            .Stage("weigh", (context, _) =>
            {
                context.State.Grams = 1250;
                context.State.Labels = [.. Enumerable.Range(1, 30).Select(i => $"label-{i}")];
                return Task.CompletedTask;
            })
            .RecoveryPoint("weighed", "parcel weighed")
            .Stage("label", (context, _) => context.State.Destination == "nowhere"
                ? throw new InvalidOperationException("no such destination")
                : Task.CompletedTask)
            .Retry(RetryPolicy.None)
            .Build();

    public Task<(int ExitCode, string Output, string Errors)> CairnAsync(params string[] arguments) =>
        DotnetProgram.RunAsync("Cairn.Cli.dll", Dir, TimeSpan.FromSeconds(60), arguments);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Dir, recursive: true);
    }

    public sealed class Parcel
    {
        public string Destination { get; set; } = "";

        public int Grams { get; set; }

        public List<string> Labels { get; set; } = [];
    }
}

/// <summary>Tests of the <c>cairn</c> tool on a fresh <see cref="ParcelStore"/> each.</summary>
public abstract class ParcelStoreTest : IAsyncLifetime
{
    protected ParcelStore Store { get; private set; } = null!;

    protected string StorePath => Store.StorePath;

    public async Task InitializeAsync() => Store = await ParcelStore.CreateAsync();

    public Task DisposeAsync()
    {
        Store.Dispose();
        return Task.CompletedTask;
    }

    protected Task<(int ExitCode, string Output, string Errors)> CairnAsync(params string[] arguments) => Store.CairnAsync(arguments);
}
