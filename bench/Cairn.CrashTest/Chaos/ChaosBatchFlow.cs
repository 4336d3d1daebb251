using System.Security.Cryptography;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// <c>chaos-batch</c>: recovery points everywhere the library allows them. A stage puts a named stream (into the storage
/// folder, which the soak fills and frees), a loop over the items runs two parallel branches per item, each with a
/// recovery point, then an inline sub-flow (<c>chaos-summary</c>) with one, and a last stage reads the stream back.
/// Every stage tells <c>started</c> its run, place and attempt first; its change of the state is a pure function.
/// </summary>
internal static class ChaosBatchFlow
{
    public const string Name = "chaos-batch";
    public const string StreamName = "items";
    private const int StreamBytes = 16 * 1024;

    public static readonly ChaosLanes Lanes = new(
        new Dictionary<string, string>
        {
            ["load"] = "", ["loaded"] = "", ["verify"] = "",
            ["pick"] = "each", ["tally"] = "each", ["item-done"] = "each",
            ["left-work"] = "each/sides/left", ["left-done"] = "each/sides/left", ["sides/left"] = "each/sides/left",
            ["right-work"] = "each/sides/right", ["right-done"] = "each/sides/right", ["sides/right"] = "each/sides/right",
            ["sum-read"] = "summarize", ["summed"] = "summarize", ["sum-write"] = "summarize", ["summarize/chaos-summary"] = "summarize",
        },
        unknownIsTopLevel: false);

    public static Flow<ChaosBatch> Create(ChaosStageJournal started) => Flow.Create<ChaosBatch>(Name)
        .Stage("load", async (context, ct) =>
        {
            started.Started(context);
            await context.Streams.PutAsync(StreamName, new MemoryStream(Content(context.State.Key)), ct);
            Load(context.State);
        })
        .RecoveryPoint("loaded", "items loaded")
        .ForEach("each", s => s.Items, item => item
            .Stage("pick", (context, _) =>
            {
                started.Started(context);
                Pick(context.State, context.Item<int>());
                return Task.CompletedTask;
            })
            .Parallel<ChaosSide>(
                "sides",
                sides => sides
                    .Branch("left", s => new ChaosSide { Key = s.Key, Item = s.Current }, left => left
                        .Stage("left-work", (context, _) => Work(started, context, "left"))
                        .RecoveryPoint("left-done"))
                    .Branch("right", s => new ChaosSide { Key = s.Key, Item = s.Current }, right => right
                        .Stage("right-work", (context, _) => Work(started, context, "right"))
                        .RecoveryPoint("right-done")),
                (state, slices) => state.Totals.Add(slices["left"].Value + slices["right"].Value))
            .Stage("tally", (context, _) =>
            {
                started.Started(context);
                context.State.Trail.Add($"tally:{context.State.Current}");
                return Task.CompletedTask;
            })
            .RecoveryPoint("item-done"))
        .SubFlow("summarize", Summary(started), s => new ChaosSummary { Totals = [.. s.Totals] }, (s, summary) => s.Summary = summary.Text)
        .Stage("verify", async (context, ct) =>
        {
            started.Started(context);
            await using var stream = await context.Streams.OpenAsync(StreamName, ct);
            var hash = await SHA256.HashDataAsync(stream, ct);
            context.State.StreamVerified = hash.AsSpan().SequenceEqual(SHA256.HashData(Content(context.State.Key)));
            context.State.Trail.Add("verify");
        })
        // A full storage folder fails the stream's put: the retries outlast the soak's fills.
        .Retry(new RetryPolicy { MaxRetries = 6, Interval = TimeSpan.FromSeconds(1), BackoffFactor = 1.5 })
        .Build();

    /// <summary>The input of a run.</summary>
    public static ChaosBatch Input(string key, int size) => new() { Key = key, Size = size };

    /// <summary>The state a run with this input must end with, computed without the engine.</summary>
    public static ChaosBatch Expected(ChaosBatch input)
    {
        var state = Input(input.Key, input.Size);
        Load(state);
        foreach (var item in state.Items)
        {
            Pick(state, item);
            state.Totals.Add(Side(state.Key, item, "left") + Side(state.Key, item, "right"));
            state.Trail.Add($"tally:{item}");
        }

        state.Summary = SummaryText(state.Totals);
        state.StreamVerified = true;
        state.Trail.Add("verify");
        return state;
    }

    private static Flow<ChaosSummary> Summary(ChaosStageJournal started) => Flow.Create<ChaosSummary>("chaos-summary")
        .Stage("sum-read", (context, _) =>
        {
            started.Started(context);
            context.State.Sum = context.State.Totals.Sum();
            return Task.CompletedTask;
        })
        .RecoveryPoint("summed")
        .Stage("sum-write", (context, _) =>
        {
            started.Started(context);
            context.State.Text = SummaryText(context.State.Totals);
            return Task.CompletedTask;
        })
        .Build();

    private static Task Work(ChaosStageJournal started, StageContext<ChaosSide> context, string side)
    {
        started.Started(context);
        context.State.Value = Side(context.State.Key, context.State.Item, side);
        return Task.CompletedTask;
    }

    private static void Load(ChaosBatch state)
    {
        state.Items = [.. Enumerable.Range(0, state.Size)];
        state.Trail.Add("load");
    }

    private static void Pick(ChaosBatch state, int item)
    {
        state.Current = item;
        state.Trail.Add($"pick:{item}");
    }

    private static long Side(string key, int item, string side) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{key}/{item}/{side}")))) & 0xFF_FFFF;

    private static string SummaryText(List<long> totals) => string.Create(CultureInfo.InvariantCulture, $"{totals.Count} items, {totals.Sum()}");

    /// <summary>The stream a run puts: its own content (content is stored once by its hash), derived from its key.</summary>
    private static byte[] Content(string key)
    {
        var content = new byte[StreamBytes];
        var block = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        for (var offset = 0; offset < content.Length; offset += block.Length)
        {
            block.CopyTo(content.AsSpan(offset));
            block = SHA256.HashData(block);
        }

        return content;
    }
}
