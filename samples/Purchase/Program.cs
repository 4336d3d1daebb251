using System.Collections.Concurrent;
using System.Text;
using Cairn;
using Cairn.Postgres;
using Cairn.Runs;
using Cairn.Sqlite;
using Purchase;

// dotnet run --project samples/Purchase [-- STORE]: a SQLite file (default purchase.db) or a PostgreSQL connection string.
var store = args.Length > 0 ? args[0] : "purchase.db";
await using var payments = await FakePaymentService.StartAsync();
await using var shop = ShopDatabase.For(store);
await shop.CreateAsync(new Dictionary<string, int> { ["BOOK-1"] = 10, ["MUG-2"] = 5 });
using var http = new HttpClient { BaseAddress = payments.Address };
var flow = PurchaseFlow.Create(shop, new PaymentClient(http));

// The outbox's publisher: here the "message bus" is the console; a real one gets message.Id to drop duplicates.
var delivered = new ConcurrentDictionary<Guid, string>();
var builder = CairnEngine.CreateBuilder();
builder = store.Contains("Host=", StringComparison.OrdinalIgnoreCase) ? builder.UsePostgres(store) : builder.UseSqlite(store);
await using var engine = builder
    .AddOutboxPublisher("*", (message, _) =>
    {
        if (delivered.TryAdd(message.Id, message.Destination))
        {
            Console.WriteLine($"  published {message.Destination} {Encoding.UTF8.GetString(message.Payload.Span)} (message {message.Id})");
        }

        return Task.CompletedTask;
    })
    .AddFlow(flow)
    .Build();

PurchaseOrder[] orders =
[
    new() { OrderId = "ORD-1001", Customer = "Ada", Lines = [new("BOOK-1", 2, 2_500), new("MUG-2", 1, 1_200)] },
    new() { OrderId = "ORD-1002", Customer = "Grace", Card = FakePaymentService.DeclinedCard, Lines = [new("MUG-2", 3, 1_200)] },
];
var expected = 0;
foreach (var order in orders)
{
    // The order ID is the recovery ID: running the sample again finds these runs instead of buying twice.
    var outcome = await engine.RunAsync(flow, order, recoveryId: order.OrderId);
    var run = await engine.Operator.GetRunAsync(outcome.RunId);
    expected += outcome.IsCompleted && !outcome.WasAlreadyCompleted ? 2 : 0; // NewOrder and the confirmation
    Console.WriteLine($"{order.OrderId}: {outcome.Status}{(outcome.WasAlreadyCompleted ? " (already)" : "")} — {run?.LastError ?? $"paid {outcome.Result?.PaymentId}"}");
}

// Delivery follows the commit; wait for it before the engine stops (what is not delivered stays in the outbox).
for (var waited = 0; delivered.Count < expected && waited < 100; waited++)
{
    await Task.Delay(50);
}

Console.WriteLine($"stock left: BOOK-1 {await shop.AvailableAsync("BOOK-1")}, MUG-2 {await shop.AvailableAsync("MUG-2")}");
Console.WriteLine($"payment service: {payments.Calls.Count} call(s), {payments.Charges} charge(s)");
foreach (var (orderId, status) in await shop.ReadOrdersAsync())
{
    Console.WriteLine($"order {orderId}: {status}");
}

return 0;
