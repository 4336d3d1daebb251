using Cairn.Postgres.TestSupport;
using Cairn.Runs;
using Microsoft.Data.Sqlite;
using Purchase;

namespace Cairn.CrashTests;

/// <summary>
/// The purchase sample in a real child process, SIGKILLed at each named crash point — inside the transactional stage
/// before its commit, after the commit of its recovery point, during the payment, inside and after the confirmation,
/// between a delivery and its being marked sent, before, inside and after the compensation — and run again with the
/// same recovery ID until it ends. The payment service runs in the test and keeps every call; the shop's tables have
/// no unique constraints, so an effect that happened twice shows as two rows.
/// </summary>
public abstract class PurchaseCrashTests : IAsyncLifetime
{
    private const string OrderId = "ORD-7";
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-purchase-crash-").FullName;
    private FakePaymentService? _payments;
    private string? _store;

    private string JournalPath => Path.Combine(_dir, "journal.txt");

    private FakePaymentService Payments => _payments!;

    private string Store => _store!;

    public async Task InitializeAsync()
    {
        _payments = await FakePaymentService.StartAsync();
        _store = await CreateStoreAsync(_dir);
    }

    public async Task DisposeAsync()
    {
        await Payments.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData("save-order", "save-order")]
    [InlineData("order-received", null)]
    [InlineData("take-payment", "take-payment")]
    [InlineData("paid", null)]
    [InlineData("confirm-order", "confirm-order")]
    [InlineData("confirmed", null)]
    [InlineData("publish", null)]
    public async Task KilledAtACrashPoint_TheOrderIsSavedPaidAndPublishedOnce(string crashPoint, string? stageRunTwice)
    {
        await KillAtAsync(crashPoint, declined: false);
        Assert.Equal(RunStatus.Completed, await FinishAsync(declined: false));

        var journal = ReadJournal();
        var expected = new Dictionary<string, int> { ["save-order"] = 1, ["take-payment"] = 1, ["confirm-order"] = 1 };
        if (stageRunTwice is not null)
        {
            expected[stageRunTwice] = 2;
        }

        // The last stage may have run again too when the delivery was killed before the run's completion committed.
        Assert.Equal(expected, journal.Stages.Where(s => s.Key != "thank-customer").ToDictionary());
        Assert.InRange(journal.Stages["thank-customer"], 1, crashPoint == "publish" ? 2 : 1);
        Assert.Equal([(OrderId, "paid"), (OrderId, "received")], await ReadShopLogAsync());
        Assert.Equal([(OrderId, "paid")], await WithShopAsync(shop => shop.ReadOrdersAsync()));
        Assert.Equal(98, await WithShopAsync(shop => shop.AvailableAsync("BOOK-1")));
        AssertOnePaymentKey(charges: 1);

        // Both messages delivered (none lost), every delivery of one message with its one ID.
        var deliveries = journal.Deliveries.GroupBy(d => d.Destination).ToDictionary(g => g.Key, g => g.Select(d => d.Id).ToList());
        Assert.Equal([PurchaseFlow.NewOrderDestination, PurchaseFlow.ConfirmationDestination], deliveries.Keys.Order(StringComparer.Ordinal));
        Assert.Single(deliveries[PurchaseFlow.NewOrderDestination].Distinct());
        Assert.Single(deliveries[PurchaseFlow.ConfirmationDestination].Distinct());
        Assert.NotEqual(deliveries[PurchaseFlow.NewOrderDestination][0], deliveries[PurchaseFlow.ConfirmationDestination][0]);
        if (crashPoint == "publish")
        {
            // Delivered, killed before it was marked sent: delivered again, with the same ID.
            Assert.Equal(2, deliveries[PurchaseFlow.NewOrderDestination].Count);
        }
    }

    [Theory]
    [InlineData("save-order", 2, 1)]
    [InlineData("compensating", 1, 1)]
    [InlineData("release-stock", 1, 2)]
    [InlineData("undo-save-order", 1, 1)]
    public async Task KilledAroundTheCompensationOfADeclinedOrder_TheStockIsReleasedOnce(string crashPoint, int saves, int compensations)
    {
        await KillAtAsync(crashPoint, declined: true);
        Assert.Equal(RunStatus.Compensated, await FinishAsync(declined: true));

        var journal = ReadJournal();
        Assert.Equal(new Dictionary<string, int> { ["save-order"] = saves, ["take-payment"] = 1 }, journal.Stages);
        // A compensation killed before its commit runs again; its writes commit once, with the checkpoint that records it.
        Assert.Equal(compensations, journal.Reached.Count(m => m == "release-stock"));
        Assert.Equal([(OrderId, "received"), (OrderId, "stock-released")], await ReadShopLogAsync());
        Assert.Equal([(OrderId, "cancelled")], await WithShopAsync(shop => shop.ReadOrdersAsync()));
        Assert.Equal(100, await WithShopAsync(shop => shop.AvailableAsync("BOOK-1")));
        AssertOnePaymentKey(charges: 0);
        Assert.Empty(journal.Deliveries);
    }

    [Fact]
    public async Task KilledTwice_DuringThePaymentAndThenDuringTheConfirmation_PaysOnceWithOneKey()
    {
        await KillAtAsync("take-payment", declined: false);
        await KillAtAsync("confirm-order", declined: false);
        Assert.Equal(RunStatus.Completed, await FinishAsync(declined: false));

        var journal = ReadJournal();
        Assert.Equal(new Dictionary<string, int> { ["save-order"] = 1, ["take-payment"] = 2, ["confirm-order"] = 2, ["thank-customer"] = 1 }, journal.Stages);
        Assert.Equal([(OrderId, "paid"), (OrderId, "received")], await ReadShopLogAsync());
        Assert.Equal(2, Payments.Calls.Count);
        AssertOnePaymentKey(charges: 1);
    }

    /// <summary>Creates an empty store in <paramref name="folder"/> or elsewhere; returns it as <c>--store</c> takes it.</summary>
    protected abstract Task<string> CreateStoreAsync(string folder);

    private RunningProgram Start(bool declined, params string[] extra) =>
        DotnetProgram.Start("Cairn.CrashTest.dll", [
            "purchase-worker", "--store", Store, "--payment-url", Payments.Address.ToString(), "--order-id", OrderId, "--journal", JournalPath,
            .. declined ? ["--declined"] : Array.Empty<string>(), .. extra,
        ]);

    private async Task KillAtAsync(string crashPoint, bool declined)
    {
        using var worker = Start(declined, "--hang-at", crashPoint);
        await worker.WaitForLineAsync("HANG");
        await worker.KillAsync();
    }

    /// <summary>Runs the worker again with the same recovery ID until the run has ended and its outbox is delivered.</summary>
    private async Task<RunStatus> FinishAsync(bool declined)
    {
        using var worker = Start(declined);
        var done = await worker.WaitForLineAsync("DONE");
        Assert.Equal(0, await worker.WaitForExitAsync());
        return Enum.Parse<RunStatus>(done.Split(' ')[2]);
    }

    /// <summary>Every call to the payment service for the run carried one idempotency key, and it charged <paramref name="charges"/> times.</summary>
    private void AssertOnePaymentKey(int charges)
    {
        Assert.NotEmpty(Payments.Calls);
        Assert.Single(Payments.Calls.Select(c => c.IdempotencyKey).Distinct());
        Assert.All(Payments.Calls, c => Assert.Equal(OrderId, c.OrderId));
        Assert.Equal(charges, Payments.Charges);
    }

    private async Task<List<(string, string)>> ReadShopLogAsync() =>
        [.. (await WithShopAsync(shop => shop.ReadLogAsync())).Order()];

    private async Task<T> WithShopAsync<T>(Func<ShopDatabase, Task<T>> read)
    {
        await using var shop = ShopDatabase.For(Store);
        return await read(shop);
    }

    private Journal ReadJournal()
    {
        var lines = File.ReadAllLines(JournalPath).Select(line => line.Split(' ')).ToList();
        return new Journal(
            lines.Where(l => l[0] == "stage").GroupBy(l => l[1]).ToDictionary(g => g.Key, g => g.Count()),
            [.. lines.Where(l => l[0] == "reached").Select(l => l[1])],
            [.. lines.Where(l => l[0] == "delivered").Select(l => (l[1], l[2]))]);
    }

    /// <summary>What the workers journaled: stage starts per stage, crash points reached, deliveries (message ID, destination).</summary>
    private sealed record Journal(Dictionary<string, int> Stages, List<string> Reached, List<(string Id, string Destination)> Deliveries);
}

/// <summary>The purchase crash sweep on a SQLite file, the shop's tables in the same file.</summary>
public sealed class SqlitePurchaseCrashTests : PurchaseCrashTests
{
    protected override Task<string> CreateStoreAsync(string folder) => Task.FromResult(Path.Combine(folder, "purchase.db"));
}

/// <summary>The purchase crash sweep on PostgreSQL: a database of its own per test, the shop's tables in its schema <c>shop</c>.</summary>
[Collection(PostgresCrashCollection.Name)]
public sealed class PostgresPurchaseCrashTests(PostgresCluster cluster) : PurchaseCrashTests
{
    private static int s_databases;

    protected override async Task<string> CreateStoreAsync(string folder)
    {
        var database = $"purchase_{Interlocked.Increment(ref s_databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        await cluster.ExecuteAsync($"CREATE DATABASE {database}");
        return cluster.Server.ConnectionString(database);
    }
}
