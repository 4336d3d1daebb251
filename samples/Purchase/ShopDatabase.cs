using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Purchase;

/// <summary>
/// The shop's own tables — orders, stock, reservations and an order log — kept in the Cairn store's database (the same
/// SQLite file, or the schema <c>shop</c> of the same PostgreSQL database), so that the flow's transactional stages
/// write them in the transaction that commits their recovery point. The tables have no unique constraints on purpose:
/// a write that happened twice shows as two rows, which is how the crash tests count.
/// </summary>
public sealed class ShopDatabase : IAsyncDisposable
{
    private readonly DbDataSource _dataSource;
    private readonly bool _postgres;

    private ShopDatabase(DbDataSource dataSource, bool postgres)
    {
        _dataSource = dataSource;
        _postgres = postgres;
    }

    /// <summary>The shop's tables in a SQLite file (the store's file), named <c>shop_…</c>.</summary>
    public static ShopDatabase ForSqlite(string path) =>
        new(SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30 }.ToString()), postgres: false);

    /// <summary>The shop's tables in the schema <c>shop</c> of a PostgreSQL database (the store's database).</summary>
    public static ShopDatabase ForPostgres(string connectionString) => new(NpgsqlDataSource.Create(connectionString), postgres: true);

    /// <summary>The shop's tables for a store named as the <c>cairn</c> tool names it: a SQLite file or a PostgreSQL connection string.</summary>
    public static ShopDatabase For(string store) =>
        store.Contains("Host=", StringComparison.OrdinalIgnoreCase) ? ForPostgres(store) : ForSqlite(store);

    private string Orders => _postgres ? "shop.orders" : "shop_orders";

    private string Stock => _postgres ? "shop.stock" : "shop_stock";

    private string Reservations => _postgres ? "shop.reservations" : "shop_reservations";

    private string OrderLog => _postgres ? "shop.order_log" : "shop_order_log";

    /// <summary>Creates the tables if they are missing and sets each SKU's stock on hand.</summary>
    public async Task CreateAsync(IReadOnlyDictionary<string, int> stock, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(transaction, (_postgres ? "CREATE SCHEMA IF NOT EXISTS shop;\n" : "") + $"""
            CREATE TABLE IF NOT EXISTS {Orders} (order_id TEXT NOT NULL, customer TEXT NOT NULL, total_cents BIGINT NOT NULL, status TEXT NOT NULL, payment_id TEXT);
            CREATE TABLE IF NOT EXISTS {Stock} (sku TEXT NOT NULL PRIMARY KEY, on_hand INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS {Reservations} (order_id TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL, released INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS {OrderLog} (order_id TEXT NOT NULL, event TEXT NOT NULL);
            """, cancellationToken);
        foreach (var (sku, onHand) in stock)
        {
            await ExecuteAsync(
                transaction,
                $"INSERT INTO {Stock} (sku, on_hand) VALUES (@sku, @on_hand) ON CONFLICT (sku) DO UPDATE SET on_hand = excluded.on_hand",
                cancellationToken,
                ("sku", sku), ("on_hand", onHand));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Saves the order and reserves its stock, in the transactional stage's transaction; an order the stock cannot cover
    /// is refused with <see cref="OutOfStockException"/>, and nothing is written.
    /// </summary>
    public async Task SaveOrderAsync(DbTransaction transaction, PurchaseOrder order, CancellationToken cancellationToken)
    {
        foreach (var line in order.Lines)
        {
            // On PostgreSQL the stock row is locked until the recovery point commits: two orders cannot both take the last item.
            var available = await ScalarAsync(
                transaction,
                $"""
                SELECT s.on_hand - COALESCE((SELECT SUM(r.quantity) FROM {Reservations} r WHERE r.sku = s.sku AND r.released = 0), 0)
                FROM {Stock} s WHERE s.sku = @sku{(_postgres ? " FOR UPDATE" : "")}
                """,
                cancellationToken,
                ("sku", line.Sku));
            if (available is null || Convert.ToInt64(available, System.Globalization.CultureInfo.InvariantCulture) < line.Quantity)
            {
                throw new OutOfStockException($"Order {order.OrderId}: {line.Quantity} x {line.Sku} wanted, {available ?? 0} available.");
            }

            await ExecuteAsync(
                transaction,
                $"INSERT INTO {Reservations} (order_id, sku, quantity) VALUES (@order_id, @sku, @quantity)",
                cancellationToken,
                ("order_id", order.OrderId), ("sku", line.Sku), ("quantity", line.Quantity));
        }

        await ExecuteAsync(
            transaction,
            $"INSERT INTO {Orders} (order_id, customer, total_cents, status) VALUES (@order_id, @customer, @total, 'received')",
            cancellationToken,
            ("order_id", order.OrderId), ("customer", order.Customer), ("total", order.TotalCents()));
        await LogAsync(transaction, order.OrderId, "received", cancellationToken);
    }

    /// <summary>Marks the order paid, in the transactional stage's transaction.</summary>
    public async Task ConfirmAsync(DbTransaction transaction, PurchaseOrder order, CancellationToken cancellationToken)
    {
        await ExecuteAsync(
            transaction,
            $"UPDATE {Orders} SET status = 'paid', payment_id = @payment_id WHERE order_id = @order_id",
            cancellationToken,
            ("payment_id", order.PaymentId!), ("order_id", order.OrderId));
        await LogAsync(transaction, order.OrderId, "paid", cancellationToken);
    }

    /// <summary>Releases the order's reserved stock and cancels it: the compensation of saving it, in its own transaction.</summary>
    public async Task ReleaseStockAsync(DbTransaction transaction, string orderId, CancellationToken cancellationToken)
    {
        await ExecuteAsync(transaction, $"UPDATE {Reservations} SET released = 1 WHERE order_id = @order_id AND released = 0", cancellationToken, ("order_id", orderId));
        await ExecuteAsync(transaction, $"UPDATE {Orders} SET status = 'cancelled' WHERE order_id = @order_id", cancellationToken, ("order_id", orderId));
        await LogAsync(transaction, orderId, "stock-released", cancellationToken);
    }

    /// <summary>What is on hand for <paramref name="sku"/> and not reserved by an order.</summary>
    public async Task<long> AvailableAsync(string sku, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var available = await ScalarAsync(
            transaction,
            $"SELECT s.on_hand - COALESCE((SELECT SUM(r.quantity) FROM {Reservations} r WHERE r.sku = s.sku AND r.released = 0), 0) FROM {Stock} s WHERE s.sku = @sku",
            cancellationToken,
            ("sku", sku));
        return Convert.ToInt64(available, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The order log: one (order, event) per write of an order — <c>received</c>, <c>paid</c>, <c>stock-released</c>.</summary>
    public Task<IReadOnlyList<(string OrderId, string Event)>> ReadLogAsync(CancellationToken cancellationToken = default) =>
        ReadPairsAsync($"SELECT order_id, event FROM {OrderLog}", cancellationToken);

    /// <summary>Each order's status (<c>received</c>, <c>paid</c>, <c>cancelled</c>), one row per order row.</summary>
    public Task<IReadOnlyList<(string OrderId, string Status)>> ReadOrdersAsync(CancellationToken cancellationToken = default) =>
        ReadPairsAsync($"SELECT order_id, status FROM {Orders} ORDER BY order_id", cancellationToken);

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private async Task<IReadOnlyList<(string, string)>> ReadPairsAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetString(0), reader.GetString(1)));
        }

        return rows;
    }

    private Task LogAsync(DbTransaction transaction, string orderId, string what, CancellationToken cancellationToken) =>
        ExecuteAsync(transaction, $"INSERT INTO {OrderLog} (order_id, event) VALUES (@order_id, @event)", cancellationToken, ("order_id", orderId), ("event", what));

    private static async Task ExecuteAsync(DbTransaction transaction, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(transaction, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(DbTransaction transaction, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(transaction, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is DBNull ? null : value;
    }

    private static DbCommand Command(DbTransaction transaction, string sql, (string Name, object Value)[] parameters)
    {
        var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}

/// <summary>The stock cannot cover an order: permanent, retrying does not help.</summary>
public sealed class OutOfStockException(string message) : Exception(message);
