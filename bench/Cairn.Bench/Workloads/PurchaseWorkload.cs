using System.Data.Common;
using Purchase;

namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>purchase</c>: what exactly-once costs. For each flow and concurrency level C, C loops run the flow one run after
/// another for a fixed time after a warm-up, as <c>throughput</c> does:
/// <list type="bullet">
/// <item><c>purchase</c>: samples/Purchase as it is — a transactional stage saving the order and reserving stock, a
/// payment over HTTP against the local fake payment service, a transactional confirmation, two outbox messages — with
/// the outbox delivery latency (commit → publisher accepted) of its messages;</item>
/// <item><c>transactional</c>: one transactional stage inserting a row in the store's database, its recovery point, a
/// last stage;</item>
/// <item><c>plain</c>: the same insert by a plain stage in a transaction of its own (what a flow without transactional
/// stages does, at least once), its recovery point, a last stage.</item>
/// </list>
/// </summary>
internal static class PurchaseWorkload
{
    private const int Skus = 256;

    public static Command CreateCommand()
    {
        var (command, common) = CommonOptions.CreateCommand(
            "purchase", "Runs/s of the purchase sample and of a transactional against a plain stage, with outbox delivery latency");
        var flows = new Option<string>("--flows") { Description = "Flows measured, comma-separated: purchase, transactional, plain", DefaultValueFactory = _ => "purchase,transactional,plain" };
        var concurrency = new Option<string>("--concurrency") { Description = "Concurrency levels, comma-separated", DefaultValueFactory = _ => "1,64" };
        var duration = new Option<double>("--duration") { Description = "Seconds measured per flow and level", DefaultValueFactory = _ => 10 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds run before measuring, per flow and level", DefaultValueFactory = _ => 2 };
        var outboxBatch = new Option<int?>("--outbox-batch") { Description = "The engine's OutboxBatchSize for the purchase flow (default: the engine's default)" };
        command.Add(outboxBatch);
        command.Add(flows);
        command.Add(concurrency);
        command.Add(duration);
        command.Add(warmup);
        command.SetAction((parse, ct) => RunAsync(
            common.Read(parse),
            new Parameters(
                List(parse.GetRequiredValue(flows)),
                [.. List(parse.GetRequiredValue(concurrency)).Select(level => int.Parse(level, CultureInfo.InvariantCulture))],
                parse.GetValue(duration),
                parse.GetValue(warmup),
                parse.GetValue(outboxBatch)),
            ct));
        return command;
    }

    private static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<int> RunAsync(BenchSettings settings, Parameters parameters, CancellationToken cancellationToken)
    {
        string[] known = ["purchase", "transactional", "plain"];
        if (parameters.Flows.Length == 0 || parameters.Flows.Except(known).Any() || parameters.Concurrency.Length == 0 || parameters.Concurrency.Any(c => c < 1)
            || parameters.DurationSeconds <= 0 || parameters.WarmupSeconds < 0)
        {
            throw new ArgumentException("--flows takes purchase, transactional and plain; --concurrency levels of 1 or more; --duration must be positive, --warmup not negative.");
        }

        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        using var listener = new CairnListener(recordDurations: false);
        AnsiConsole.MarkupLine($"[bold]purchase[/]: flows {string.Join(", ", parameters.Flows)} at concurrency {string.Join(", ", parameters.Concurrency)}, {parameters.DurationSeconds:N0} s each after {parameters.WarmupSeconds:N0} s of warm-up; {Markup.Escape(store.Description)}, {Workload.Describe(settings)}");

        var rows = new List<Row>();
        foreach (var flow in parameters.Flows)
        {
            foreach (var concurrency in parameters.Concurrency)
            {
                var row = flow == "purchase"
                    ? await MeasurePurchaseAsync(store, concurrency, parameters, listener, cancellationToken)
                    : await MeasureStageAsync(store, transactional: flow == "transactional", concurrency, parameters, listener, cancellationToken);
                rows.Add(row);
                AnsiConsole.MarkupLine($"  {row.Flow} C={concurrency}: {row.Level.RunsPerSecond:N0} runs/s, p50 {Format.Micros(row.Level.Latency.P50Us)}, p99 {Format.Micros(row.Level.Latency.P99Us)}, CPU {row.Level.CpuShare:P0}");
            }
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("flow", "concurrency", "runs", "runs/s", "p50 run", "p99 run", "CPU (all cores)", "outbox p50", "outbox p99");
        foreach (var (flow, level, outbox) in rows)
        {
            table.AddRow(
                flow, Format.Count(level.Concurrency), Format.Count(level.Runs), Format.Count(level.RunsPerSecond), Format.Micros(level.Latency.P50Us),
                Format.Micros(level.Latency.P99Us), level.CpuShare.ToString("P0", CultureInfo.InvariantCulture),
                outbox is null ? "" : Format.Micros(outbox.P50Us), outbox is null ? "" : Format.Micros(outbox.P99Us));
        }

        AnsiConsole.Write(table);
        await BenchReport.Create("purchase", store, parameters, new Results(rows)).WriteAsync(settings, cancellationToken);
        return 0;
    }

    private static async Task<Row> MeasurePurchaseAsync(BenchStore store, int concurrency, Parameters parameters, CairnListener listener, CancellationToken cancellationToken)
    {
        await using var payments = await FakePaymentService.StartAsync(cancellationToken: cancellationToken);
        using var http = new HttpClient { BaseAddress = payments.Address };
        await using var shop = ShopDatabase.For(store.ApplicationDatabase);

        // Stock for ever, spread over many SKUs: the workload measures the engine, not one hot stock row's lock.
        await shop.CreateAsync(Enumerable.Range(0, Skus).ToDictionary(Sku, _ => int.MaxValue / 2), cancellationToken);
        var flow = PurchaseFlow.Create(shop, new PaymentClient(http));
        await using var engine = store.BuildEngine(flow, maxConcurrentRuns: concurrency, configure: builder => builder
            .AddOutboxPublisher("*", (_, _) => Task.CompletedTask)
            .Configure(options => options.OutboxBatchSize = parameters.OutboxBatch ?? options.OutboxBatchSize));
        await engine.StartAsync(cancellationToken);
        var orders = 0;
        PurchaseOrder NewOrder()
        {
            var n = Interlocked.Increment(ref orders);
            return new PurchaseOrder { OrderId = $"ORD-{n}", Customer = "bench", Lines = [new(Sku(n % Skus), 1, 1_250), new(Sku((n + 7) % Skus), 2, 400)] };
        }

        var level = await ThroughputWorkload.MeasureAsync(
            engine, flow, NewOrder, concurrency, parameters.DurationSeconds, TimeSpan.FromSeconds(parameters.WarmupSeconds), listener, cancellationToken,
            onWindowStart: () => listener.TakeOutboxLatencies().Clear());
        return new Row("purchase", level, Percentiles.Of(listener.TakeOutboxLatencies()));
    }

    private static string Sku(int n) => $"SKU-{n:D3}";

    private static async Task<Row> MeasureStageAsync(
        BenchStore store, bool transactional, int concurrency, Parameters parameters, CairnListener listener, CancellationToken cancellationToken)
    {
        await using var application = store.OpenApplicationDataSource();
        var table = store.ApplicationTable("bench_effects");
        var builder = Flow.Create<StageCostState>(transactional ? "transactional-stage" : "plain-stage");
        builder = transactional
            ? builder.TransactionalStage("write", (context, transaction, ct) => InsertAsync(transaction, table, context.RunId, ct))
            : builder.Stage("write", async (context, ct) =>
            {
                // At least once: the row commits here, the recovery point after it in another transaction.
                await using var connection = await application.OpenConnectionAsync(ct);
                await using var transaction = await connection.BeginTransactionAsync(ct);
                await InsertAsync(transaction, table, context.RunId, ct);
                await transaction.CommitAsync(ct);
            });
        var flow = builder
            .RecoveryPoint("written", "row written")
            .Stage("finish", (context, _) =>
            {
                context.State.Finished = true;
                return Task.CompletedTask;
            })
            .Build();

        await using var engine = store.BuildEngine(flow, maxConcurrentRuns: concurrency);
        await engine.StartAsync(cancellationToken);

        // After the engine started: on PostgreSQL its schema exists then.
        await using (var create = application.CreateCommand($"CREATE TABLE IF NOT EXISTS {table} (run_id TEXT NOT NULL, written_at BIGINT NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var level = await ThroughputWorkload.MeasureAsync(
            engine, flow, () => new StageCostState(), concurrency, parameters.DurationSeconds, TimeSpan.FromSeconds(parameters.WarmupSeconds), listener, cancellationToken);
        return new Row(transactional ? "transactional" : "plain", level, null);
    }

    private static async Task InsertAsync(DbTransaction transaction, string table, RunId runId, CancellationToken cancellationToken)
    {
        await using var insert = transaction.Connection!.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = $"INSERT INTO {table} (run_id, written_at) VALUES (@run_id, @written_at)";
        AddParameter(insert, "run_id", runId.ToString());
        AddParameter(insert, "written_at", Stopwatch.GetTimestamp());
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private sealed record Parameters(string[] Flows, int[] Concurrency, double DurationSeconds, double WarmupSeconds, int? OutboxBatch);

    /// <summary>One flow at one level; <paramref name="Outbox"/> is the delivery latency of its messages, for flows that send some.</summary>
    private sealed record Row(string Flow, ThroughputWorkload.Level Level, Percentiles? Outbox);

    private sealed record Results(List<Row> Rows);

    /// <summary>The state of the stage-cost flows.</summary>
    internal sealed class StageCostState
    {
        public bool Finished { get; set; }
    }
}
