using Cairn;
using Cairn.Flows;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Demo;

/// <summary>
/// Reads a CSV of orders, validates them, loads them into a SQLite table in batches and writes a summary.
/// Recovery points after reading, after validating and after loading mean a crash never reads or validates the file
/// twice; the load itself is idempotent (INSERT OR IGNORE on the order ID), so running it again after a crash in the
/// middle adds each order once.
/// </summary>
internal static class OrderImportFlow
{
    public const string Name = "order-import";

    public static Flow<OrderImportState> Create(OrderImportOptions? options = null)
    {
        options ??= new OrderImportOptions();
        return Flow.Create<OrderImportState>(Name, version: 1)
            .Stage("read-csv", ReadCsvAsync)
            .RecoveryPoint("csv-read", "CSV read")
            .Stage("validate", Validate)
            .RecoveryPoint("validated", "orders validated")
            .Stage("create-table", CreateTableAsync)
            .Stage("load-orders", (context, ct) => LoadOrdersAsync(context, options, ct))
            .RecoveryPoint("loaded", "orders loaded")
            .Stage("write-summary", WriteSummaryAsync)
            .Retry(policy => policy with { MaxRetries = 3, Interval = TimeSpan.FromSeconds(2) })
            .Build();
    }

    private static async Task ReadCsvAsync(StageContext<OrderImportState> context, CancellationToken cancellationToken)
    {
        var orders = new List<Order>();
        var rejected = new List<string>();
        var lines = await File.ReadAllLinesAsync(context.State.CsvPath, cancellationToken);
        foreach (var (line, number) in lines.Skip(1).Select((l, i) => (l, i + 2)))
        {
            var fields = line.Split(',');
            if (fields.Length != 5
                || !int.TryParse(fields[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var quantity)
                || !decimal.TryParse(fields[4], NumberStyles.Number, CultureInfo.InvariantCulture, out var price))
            {
                rejected.Add($"line {number}: unreadable");
                continue;
            }

            orders.Add(new Order(fields[0], fields[1], fields[2], quantity, price));
        }

        context.State.Orders = orders;
        context.State.Rejected = rejected;
        context.StatusMessage = $"CSV read: {orders.Count:N0} orders";
    }

    private static Task Validate(StageContext<OrderImportState> context, CancellationToken cancellationToken)
    {
        var state = context.State;
        var valid = new List<Order>(state.Orders.Count);
        foreach (var order in state.Orders)
        {
            if (order.Quantity <= 0 || order.UnitPrice <= 0 || string.IsNullOrWhiteSpace(order.Customer))
            {
                state.Rejected.Add($"order {order.Id}: quantity, price or customer missing");
            }
            else
            {
                valid.Add(order);
            }
        }

        state.Orders = valid;
        context.StatusMessage = $"{valid.Count:N0} valid orders, {state.Rejected.Count:N0} rejected";
        return Task.CompletedTask;
    }

    private static async Task CreateTableAsync(StageContext<OrderImportState> context, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(context.State.TargetDatabase, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS orders (
                id TEXT PRIMARY KEY,
                customer TEXT NOT NULL,
                sku TEXT NOT NULL,
                quantity INTEGER NOT NULL,
                unit_price TEXT NOT NULL,
                import_run TEXT NOT NULL
            );
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task LoadOrdersAsync(StageContext<OrderImportState> context, OrderImportOptions options, CancellationToken cancellationToken)
    {
        var state = context.State;
        await using var connection = await OpenAsync(state.TargetDatabase, cancellationToken);
        var batches = state.Orders.Chunk(options.BatchSize).ToList();
        for (var b = 0; b < batches.Count; b++)
        {
            await using (var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken))
            {
                await using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                // OR IGNORE: after a crash in the middle of this stage, the batches already committed are skipped.
                insert.CommandText = "INSERT OR IGNORE INTO orders VALUES ($id, $customer, $sku, $quantity, $price, $run)";
                var id = insert.Parameters.Add("$id", SqliteType.Text);
                var customer = insert.Parameters.Add("$customer", SqliteType.Text);
                var sku = insert.Parameters.Add("$sku", SqliteType.Text);
                var quantity = insert.Parameters.Add("$quantity", SqliteType.Integer);
                var price = insert.Parameters.Add("$price", SqliteType.Text);
                insert.Parameters.AddWithValue("$run", context.IdempotencyKey);
                foreach (var order in batches[b])
                {
                    id.Value = order.Id;
                    customer.Value = order.Customer;
                    sku.Value = order.Sku;
                    quantity.Value = order.Quantity;
                    price.Value = order.UnitPrice.ToString(CultureInfo.InvariantCulture);
                    await insert.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
            }

            options.BatchLoaded?.Invoke(b + 1, batches.Count);
            if (options.BatchPause > TimeSpan.Zero)
            {
                await Task.Delay(options.BatchPause, cancellationToken);
            }
        }

        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM orders";
        state.Loaded = Convert.ToInt32(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        state.Total = state.Orders.Sum(o => o.Amount);
        context.StatusMessage = $"{state.Loaded:N0} orders loaded";
    }

    private static async Task WriteSummaryAsync(StageContext<OrderImportState> context, CancellationToken cancellationToken)
    {
        var state = context.State;
        var summary = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"orders loaded: {state.Loaded}")
            .AppendLine(CultureInfo.InvariantCulture, $"orders rejected: {state.Rejected.Count}")
            .AppendLine(CultureInfo.InvariantCulture, $"total amount: {state.Total.ToString("F2", CultureInfo.InvariantCulture)}")
            .AppendLine(CultureInfo.InvariantCulture, $"run: {context.RunId} (attempt {context.Recovery.Attempt})");
        await File.WriteAllTextAsync(state.SummaryPath, summary.ToString(), cancellationToken);
    }

    private static async Task<SqliteConnection> OpenAsync(string path, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
