using Cairn.Flows;
using Cairn.Runs;
using Cairn.Sqlite;
using Cairn.Storage;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary>
/// <c>cairn runs rerun ID --from POINT --state FILE</c> and the kept checkpoints in <c>cairn runs show</c>, run as a real
/// process against a SQLite store whose run failed after its third recovery point, with three checkpoints kept.
/// </summary>
public sealed class RerunFromCliTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-cli-rerun-").FullName;
    private readonly Dictionary<string, int> _stages = [];
    private RunId _failed;
    private Flow<Shipment>? _flow;

    private string StorePath => Path.Combine(_dir, "cairn.db");

    public async Task InitializeAsync()
    {
        await using var engine = Engine();
        _failed = (await engine.RunAsync(Flow(), new Shipment { Destination = "nowhere" }, "shipment-1")).RunId;
        Assert.Equal(RunStatus.Failed, (await GetRunAsync()).Status);
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task RunsShow_RunWithKeptCheckpoints_ListsThemNewestFirst()
    {
        var result = await CairnAsync("runs", "show", _failed.ToString());

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Kept checkpoints", result.Output, StringComparison.Ordinal);
        var rows = result.Output.Split('\n').Where(line => line.Contains("bytes", StringComparison.Ordinal) && line.Contains('#')).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Contains("#3", rows[0], StringComparison.Ordinal);
        Assert.Contains("packed", rows[0], StringComparison.Ordinal);
        Assert.Contains("#1", rows[2], StringComparison.Ordinal);
        Assert.Contains("weighed", rows[2], StringComparison.Ordinal);
        Assert.Contains("parcel weighed", rows[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsRerun_FromAnEarlierPointWithAnEditedState_ResumesThereWithIt()
    {
        var edited = Path.Combine(_dir, "edited.json");
        await File.WriteAllTextAsync(edited, "\uFEFF{ \"Destination\": \"Oslo\", \"Grams\": 900, \"Trace\": [\"weigh\", \"edited\"] }");

        var result = await CairnAsync("runs", "rerun", _failed.ToString(), "--from", "weighed", "--state", edited);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(
            "re-run requested from the command line: resumes from recovery point 'weighed' (checkpoint 1, copied as checkpoint 4) with an edited state",
            result.Output,
            StringComparison.Ordinal);
        Assert.Contains("checks it against the flow's state type when it resumes", result.Output, StringComparison.Ordinal);
        var run = await GetRunAsync();
        Assert.Equal((RunStatus.Pending, "weighed", 4L), (run.Status, run.LastRecoveryPoint, run.CheckpointSequence));

        // An engine serving the flow resumes the run after 'weighed' with the edited state; 'weigh' does not run again.
        await using var engine = Engine();
        await engine.StartAsync(Ct);
        var outcome = await engine.WaitForRunAsync(Flow(), _failed).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["weigh", "edited", "label", "pack", "ship"], outcome.Result!.Trace);
        Assert.Equal(900, outcome.Result.Grams);
        Assert.Equal(1, _stages["weigh"]);
    }

    [Fact]
    public async Task RunsRerun_FromSequenceWithoutState_CopiesThatCheckpoint()
    {
        var result = await CairnAsync("runs", "rerun", _failed.ToString(), "--from", "#2");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("resumes from recovery point 'labelled' (checkpoint 2, copied as checkpoint 4) with its saved state", result.Output, StringComparison.Ordinal);
        Assert.Equal(("labelled", 4L), ((await GetRunAsync()).LastRecoveryPoint, (await GetRunAsync()).CheckpointSequence));
    }

    [Theory]
    [InlineData("{ \"Destination\": ", "is not well-formed JSON")]
    [InlineData("null", "holds JSON null")]
    public async Task RunsRerun_StateFileNotAState_FailsWithOneLineAndChangesNothing(string content, string expected)
    {
        var edited = Path.Combine(_dir, "edited.json");
        await File.WriteAllTextAsync(edited, content);
        var before = await SnapshotAsync();

        var result = await CairnAsync("runs", "rerun", _failed.ToString(), "--from", "weighed", "--state", edited);

        AssertOneLineError(result, expected);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task RunsRerun_MissingStateFile_FailsWithOneLineAndChangesNothing()
    {
        var before = await SnapshotAsync();

        var result = await CairnAsync("runs", "rerun", _failed.ToString(), "--state", "missing.json");

        AssertOneLineError(result, "does not exist");
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task RunsRerun_FromAPointNotKept_FailsWithOneLineNamingTheKeptCheckpointsAndChangesNothing()
    {
        var before = await SnapshotAsync();

        var result = await CairnAsync("runs", "rerun", _failed.ToString(), "--from", "shipped");

        AssertOneLineError(result, $"Run {_failed} keeps no checkpoint at recovery point 'shipped'; its kept checkpoints, newest first, are #3 'packed', #2 'labelled', #1 'weighed'.");
        Assert.Equal(before, await SnapshotAsync());
    }

    [Theory]
    [InlineData("#x")]
    [InlineData("#0")]
    [InlineData("#")]
    public async Task RunsRerun_FromABadSequence_FailsWithOneLineAndChangesNothing(string from)
    {
        var before = await SnapshotAsync();

        var result = await CairnAsync("runs", "rerun", _failed.ToString(), "--from", from);

        AssertOneLineError(result, $"--from '{from}' is not a checkpoint number");
        Assert.Equal(before, await SnapshotAsync());
    }

    private static void AssertOneLineError((int ExitCode, string Output, string Errors) result, string expected)
    {
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("cairn: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    private CairnEngine Engine() =>
        CairnEngine.CreateBuilder().UseSqlite(StorePath).Configure(o => o.CheckpointsToKeep = 3).AddFlow(Flow()).Build();

    /// <summary>weigh, weighed, label, labelled, pack, packed, ship: 'ship' fails for the destination "nowhere".</summary>
    private Flow<Shipment> Flow() => _flow ??= BuildFlow();

    private Flow<Shipment> BuildFlow()
    {
        Func<StageContext<Shipment>, CancellationToken, Task> Stage(string name, Action<Shipment>? change = null) => (context, _) =>
        {
            lock (_stages)
            {
                _stages[name] = _stages.GetValueOrDefault(name) + 1;
            }

            change?.Invoke(context.State);
            context.State.Trace.Add(name);
            return Task.CompletedTask;
        };

        return Cairn.Flows.Flow.Create<Shipment>("shipment")
            .Stage("weigh", Stage("weigh", s => s.Grams = 1250))
            .RecoveryPoint("weighed", "parcel weighed")
            .Stage("label", Stage("label"))
            .RecoveryPoint("labelled")
            .Stage("pack", Stage("pack"))
            .RecoveryPoint("packed")
            .Stage("ship", (context, ct) => context.State.Destination == "nowhere"
                ? throw new InvalidOperationException("no such destination")
                : Stage("ship")(context, ct))
            .Retry(RetryPolicy.None)
            .Build();
    }

    private async Task<RunRecord> GetRunAsync()
    {
        await using var store = await OpenStoreAsync();
        return await store.GetRunAsync(_failed, Ct) ?? throw new InvalidOperationException($"Run {_failed} is gone.");
    }

    private async Task<(RunRecord Run, string Events, string Checkpoints)> SnapshotAsync()
    {
        await using var store = await OpenStoreAsync();
        return (
            await store.GetRunAsync(_failed, Ct) ?? throw new InvalidOperationException($"Run {_failed} is gone."),
            string.Join("\n", await store.GetEventsAsync(_failed, Ct)),
            string.Join("\n", await store.GetCheckpointsAsync(_failed, Ct)));
    }

    private async Task<SqliteRunStore> OpenStoreAsync()
    {
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath });
        await store.InitializeAsync(Ct);
        return store;
    }

    private Task<(int ExitCode, string Output, string Errors)> CairnAsync(params string[] arguments) =>
        DotnetProgram.RunAsync("Cairn.Cli.dll", _dir, TimeSpan.FromSeconds(60), arguments);

    public sealed class Shipment
    {
        public string Destination { get; set; } = "";

        public int Grams { get; set; }

        public List<string> Trace { get; set; } = [];
    }
}
