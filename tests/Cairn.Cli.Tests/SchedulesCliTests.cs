using Cairn.Flows;
using Cairn.Runs;
using Cairn.Schedules;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary><c>cairn schedules ...</c>, run as a real process against a SQLite store holding a schedule defined in code.</summary>
public sealed class SchedulesCliTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-cli-schedules-").FullName;

    private static Flow<List<string>> Report { get; } = Flow.Create<List<string>>("report")
        .Stage("build", (context, _) => { context.State.Add("built"); return Task.CompletedTask; })
        .Build();

    private string StorePath => Path.Combine(_dir, "cairn.db");

    public async Task InitializeAsync()
    {
        await using var engine = CairnEngine.CreateBuilder()
            .UseSqlite(StorePath)
            .AddSchedule("nightly-report", Report, [], ScheduleSpec.Cron("0 2 * * *", "Europe/Berlin"))
            .Build();
        await engine.StartAsync(Ct);
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task List_Show_Pause_Trigger_Resume_Delete()
    {
        var list = await CairnAsync("schedules", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("nightly-report", list.Output, StringComparison.Ordinal);
        Assert.Contains("cron '0 2 * * *' in Europe/Berlin", list.Output, StringComparison.Ordinal);
        Assert.Contains("active", list.Output, StringComparison.Ordinal);

        var pause = await CairnAsync("schedules", "pause", "nightly-report");
        Assert.Equal(0, pause.ExitCode);
        Assert.Contains("Paused schedule 'nightly-report'.", pause.Output, StringComparison.Ordinal);
        Assert.Contains("paused", pause.Output, StringComparison.Ordinal);

        var trigger = await CairnAsync("schedules", "trigger", "nightly-report");
        Assert.Equal(0, trigger.ExitCode);
        var show = await CairnAsync("schedules", "show", "nightly-report");
        Assert.Contains("Trigger requested", show.Output, StringComparison.Ordinal);
        Assert.Contains("in code (AddSchedule)", show.Output, StringComparison.Ordinal);

        Assert.Equal(0, (await CairnAsync("schedules", "resume", "nightly-report")).ExitCode);
        await using (var store = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath }))
        {
            await store.InitializeAsync(Ct);
            var schedule = (await RunOperator.Create(store).GetScheduleAsync("nightly-report", Ct))!;
            Assert.False(schedule.Paused);
            Assert.NotNull(schedule.TriggeredAt);
        }

        var delete = await CairnAsync("schedules", "delete", "nightly-report");
        Assert.Equal(0, delete.ExitCode);
        Assert.Contains("0 schedule(s)", (await CairnAsync("schedules", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownSchedule_OneLineError()
    {
        var result = await CairnAsync("schedules", "pause", "weekly");

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("cairn: No schedule is named 'weekly'; 'cairn schedules list' shows them.", line.Trim());
    }

    private Task<(int ExitCode, string Output, string Errors)> CairnAsync(params string[] arguments) =>
        DotnetProgram.RunAsync("Cairn.Cli.dll", _dir, TimeSpan.FromSeconds(60), arguments);
}
