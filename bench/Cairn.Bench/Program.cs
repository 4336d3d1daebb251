using System.Diagnostics;
using System.Globalization;
using Cairn;
using Cairn.Sqlite;

// A simple loop: one run of a flow with N recovery points, each saving a ~100-byte state, one after the other.
// Each checkpoint is timed from the start of its serialization to the end of its durable commit.
var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
var durability = args.Length > 1 && args[1] == "normal" ? SqliteDurability.Normal : SqliteDurability.Full;
var path = Path.Combine(Path.GetTempPath(), $"cairn-bench-{Guid.NewGuid():N}.db");

var builder = Flow.Create<BenchState>("checkpoint-loop");
for (var i = 0; i <= count; i++)
{
    builder.Stage($"s{i}", (context, _) =>
    {
        context.State.Counter++;
        return Task.CompletedTask;
    });
    if (i < count)
    {
        builder.RecoveryPoint($"p{i}");
    }
}

var flow = builder.Build();
var durations = new List<double>(count);
using var listener = new ActivityListener
{
    ShouldListenTo = source => source.Name == Telemetry.Name,
    Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
    ActivityStopped = activity =>
    {
        if (activity.OperationName == Telemetry.CheckpointActivity)
        {
            durations.Add(activity.Duration.TotalMicroseconds);
        }
    },
};
ActivitySource.AddActivityListener(listener);

await using (var engine = CairnEngine.CreateBuilder().UseSqlite(path, o => o.Durability = durability).AddFlow(flow).Build())
{
    var outcome = await engine.RunAsync(flow, new BenchState { Payload = new string('x', 80) });
    if (!outcome.IsCompleted)
    {
        throw new InvalidOperationException(outcome.Error);
    }
}

durations.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{durations.Count} sequential checkpoints on SQLite ({durability}): p50 {Percentile(0.50):F0} µs, p90 {Percentile(0.90):F0} µs, p99 {Percentile(0.99):F0} µs, max {durations[^1]:F0} µs"));
foreach (var file in new[] { path, path + "-wal", path + "-shm", path + ".lock" })
{
    File.Delete(file);
}

double Percentile(double p) => durations[(int)Math.Min(durations.Count - 1, Math.Floor(p * durations.Count))];

internal sealed class BenchState
{
    public int Counter { get; set; }

    public string Payload { get; set; } = "";
}
