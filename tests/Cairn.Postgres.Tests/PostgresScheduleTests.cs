using Cairn.Flows;
using Cairn.Runs;
using Cairn.Schedules;

namespace Cairn.Postgres.Tests;

/// <summary>One schedule on two engine nodes sharing a PostgreSQL database, with real time: each slot starts one run.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresScheduleTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly string _schema = cluster.NewSchema("schedules");
    private readonly List<CairnEngine> _engines = [];

    private static Flow<List<string>> Tick { get; } = Flow.Create<List<string>>("tick")
        .Stage("tick", (context, _) => { context.State.Add(context.RecoveryId); return Task.CompletedTask; })
        .Build();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }

        await cluster.DropSchemaAsync(_schema);
    }

    [Fact]
    public async Task TwoNodes_OneScheduleEverySecond_EachSlotStartsExactlyOneRun()
    {
        var a = Engine("node-a");
        var b = Engine("node-b");
        await Task.WhenAll(a.StartAsync(), b.StartAsync());

        // Both nodes see every slot (they poll every 50 ms and wake at the slot); the compare-and-set and the recovery ID let one start it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await a.Operator.ListRunsAsync(new RunQuery { FlowName = "tick", Statuses = [RunStatus.Completed], Limit = 100 })).Runs.Count < 6)
        {
            Assert.True(DateTime.UtcNow < deadline, "six slots did not complete within 30 s");
            await Task.Delay(100);
        }

        await a.Operator.PauseScheduleAsync("every-second");
        await Task.Delay(300); // a slot being started when the pause landed finishes starting
        var runs = (await a.Operator.ListRunsAsync(new RunQuery { FlowName = "tick", Limit = 1000 })).Runs;
        var slots = runs.Select(r => r.RecoveryId).ToList();

        Assert.Equal(slots.Count, slots.Distinct().Count());
        Assert.All(slots, slot => Assert.StartsWith("schedule:every-second:", slot, StringComparison.Ordinal));
        Assert.Equal(runs.Count, await cluster.ScalarAsync<long>($"SELECT count(DISTINCT recovery_id) FROM \"{_schema}\".runs"));
        var times = slots.Select(s => DateTimeOffset.Parse(s["schedule:every-second:".Length..], System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(1), pair.Second - pair.First));
        var schedule = (await b.Operator.GetScheduleAsync("every-second"))!;
        Assert.True(schedule.Paused);
        Assert.Contains(runs, r => r.Id == schedule.LastRunId);
    }

    private CairnEngine Engine(string node)
    {
        var engine = CairnEngine.CreateBuilder()
            .UsePostgres(cluster.ConnectionString, options => options.Schema = _schema)
            .Configure(o =>
            {
                o.NodeName = node;
                o.PollInterval = TimeSpan.FromMilliseconds(50);
            })
            .AddSchedule("every-second", Tick, [], ScheduleSpec.Every(TimeSpan.FromSeconds(1)), new ScheduleOptions { Overlap = OverlapPolicy.Allow, MissedSlots = MissedSlotPolicy.RunAll })
            .Build();
        _engines.Add(engine);
        return engine;
    }
}
