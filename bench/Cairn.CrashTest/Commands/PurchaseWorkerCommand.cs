using System.CommandLine;
using Cairn.Cli;
using Cairn.Cli.Commands;
using Purchase;

namespace Cairn.CrashTest.Commands;

/// <summary>
/// <c>purchase-worker</c> (hidden): runs one order through the purchase sample (a transactional stage, a payment with an
/// idempotency key, the outbox, a transactional compensation) in this process for the crash tests, until the run has
/// ended and its outbox is delivered. It journals every stage start, every moment a stage reached and every delivery,
/// and can stop itself at a named crash point and wait to be killed.
/// </summary>
internal static class PurchaseWorkerCommand
{
    /// <summary>
    /// Where the worker can stop: inside a stage after its work (a transactional stage's before its commit), after a
    /// checkpoint committed (a recovery point, <c>compensating</c>, or <c>undo-save-order</c>), and inside the publisher
    /// after it has delivered <see cref="PurchaseFlow.NewOrderDestination"/> and before the delivery is marked sent.
    /// </summary>
    public static readonly IReadOnlyList<string> CrashPoints =
    [
        "save-order", "order-received", "take-payment", "paid", "confirm-order", "confirmed", "publish", "compensating", "release-stock", "undo-save-order",
    ];

    public static Command Create()
    {
        var store = StoreOption.Create();
        var paymentUrl = new Option<string>("--payment-url") { Required = true, Description = "The payment service (samples/Purchase's FakePaymentService)" };
        var orderId = new Option<string>("--order-id") { Required = true, Description = "The order, and the run's recovery ID" };
        var declined = new Option<bool>("--declined") { Description = "Pay with the card the payment service declines: the run compensates" };
        var journal = new Option<string>("--journal")
        {
            Required = true,
            Description = "Append 'stage NAME ATTEMPT' per stage start, 'reached MOMENT' per crash point passed, 'delivered ID DESTINATION' per delivery",
        };
        var hangAt = new Option<string?>("--hang-at") { Description = $"Print HANG at this crash point and wait to be killed: {string.Join(", ", CrashPoints)}" };
        var command = new Command("purchase-worker", "Run one order of the purchase sample in this process (used by the crash tests)")
        {
            store, paymentUrl, orderId, declined, journal, hangAt,
        };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            var crashPoint = parse.GetValue(hangAt);
            if (crashPoint is not null && !CrashPoints.Contains(crashPoint))
            {
                throw new ArgumentException($"--hang-at must be one of {string.Join(", ", CrashPoints)}, not '{crashPoint}'.");
            }

            var journalPath = parse.GetRequiredValue(journal);
            var journalLock = new Lock();
            void Reached(string moment, string line)
            {
                lock (journalLock)
                {
                    // Written through before the worker goes on: the crash tests count these lines.
                    File.AppendAllText(journalPath, line + "\n");
                }

                if (moment == crashPoint)
                {
                    WorkerProtocol.Hang();
                }
            }

            using var listener = WorkerProtocol.Listen(
                stageStarted: activity => Reached("", $"stage {activity.GetTagItem(Cairn.Diagnostics.Telemetry.StageTag)} {activity.GetTagItem(Cairn.Diagnostics.Telemetry.AttemptTag)}"),
                pointCommitted: point => Reached(point, $"committed {point}"));
            var storeValue = parse.GetRequiredValue(store);
            await using var shop = ShopDatabase.For(storeValue);
            await shop.CreateAsync(new Dictionary<string, int> { ["BOOK-1"] = 100 }, ct);
            using var http = new HttpClient { BaseAddress = new Uri(parse.GetRequiredValue(paymentUrl)) };
            var flow = PurchaseFlow.Create(shop, new PaymentClient(http), moment => Reached(moment, $"reached {moment}"));
            using var loggerFactory = WorkerProtocol.CreateLoggerFactory();
            await using var engine = StoreOption.UseStore(CairnEngine.CreateBuilder(), storeValue)
                .UseLoggerFactory(loggerFactory)
                .AddOutboxPublisher("*", (message, _) =>
                {
                    Reached(message.Destination == PurchaseFlow.NewOrderDestination ? "publish" : "", $"delivered {message.Id} {message.Destination}");
                    return Task.CompletedTask;
                })
                .AddFlow(flow)
                .Configure(o =>
                {
                    // The same name on every start: a restarted worker takes its node's lock and interrupts its own runs at once.
                    o.NodeName = "purchase-worker";
                    o.PollInterval = TimeSpan.FromMilliseconds(100);
                    o.OutboxPollInterval = TimeSpan.FromMilliseconds(100);
                    // A delivery claimed by a killed worker is free again this soon.
                    o.OutboxClaimDuration = TimeSpan.FromSeconds(1);
                })
                .Build();
            var id = parse.GetRequiredValue(orderId);
            var order = new PurchaseOrder
            {
                OrderId = id,
                Customer = "Ada",
                Card = parse.GetValue(declined) ? FakePaymentService.DeclinedCard : "4242-4242-4242-4242",
                Lines = [new OrderLine("BOOK-1", 2, 2_500)],
            };
            var outcome = await engine.RunAsync(flow, order, recoveryId: id, ct);

            // The run has ended; its messages leave after their commits. Wait for every one of them to be delivered.
            while ((await engine.Operator.ListOutboxAsync(new OutboxQuery { RunId = outcome.RunId }, ct)).Count > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
            }

            WorkerProtocol.Say($"DONE {outcome.RunId} {outcome.Status}");
            return 0;
        });
        return command;
    }
}
