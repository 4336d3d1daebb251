using Cairn.Flows;
using Cairn.Runs;

namespace Purchase;

/// <summary>
/// The purchase flow of the seed's example, exactly once where it matters:
/// <list type="number">
/// <item><c>save-order</c> saves the order and reserves its stock in one transaction of the store's database, which
/// commits with the recovery point <c>order-received</c>: both or neither. Its compensation releases the stock, in a
/// transaction that commits with the checkpoint recording it done.</item>
/// <item><c>take-payment</c> charges the card with the stage's idempotency key: after a crash it runs again with the same
/// key, and the payment service charges once. A declined card fails the run for good, and the stock is released.</item>
/// <item><c>confirm-order</c> marks the order paid and adds <see cref="NewOrder"/> to the outbox, committed with the
/// recovery point <c>confirmed</c>; the engine delivers it after that commit, with one message ID however often it
/// is delivered.</item>
/// <item><c>thank-customer</c> adds the <see cref="OrderConfirmation"/> e-mail, committed with the run's completion.</item>
/// </list>
/// </summary>
public static class PurchaseFlow
{
    public const string Name = "purchase";

    /// <summary>The outbox destination of <see cref="NewOrder"/>.</summary>
    public const string NewOrderDestination = "NewOrder";

    /// <summary>The outbox destination of <see cref="OrderConfirmation"/>, the e-mail to the customer.</summary>
    public const string ConfirmationDestination = "OrderConfirmation";

    /// <summary>Builds the flow.</summary>
    /// <param name="shop">The shop's tables, in the store's database.</param>
    /// <param name="payments">The payment service.</param>
    /// <param name="reached">
    /// Told, with the stage's name, when a stage has done its work and before it returns (for a transactional stage:
    /// before its transaction commits); <c>release-stock</c> for the compensation. The crash tests stop the process there.
    /// </param>
    public static Flow<PurchaseOrder> Create(ShopDatabase shop, PaymentClient payments, Action<string>? reached = null)
    {
        ArgumentNullException.ThrowIfNull(shop);
        ArgumentNullException.ThrowIfNull(payments);
        return Flow.Create<PurchaseOrder>(Name)
            .TransactionalStage("save-order", async (context, transaction, ct) =>
            {
                await shop.SaveOrderAsync(transaction, context.State, ct);
                reached?.Invoke("save-order");
            })
            .CompensateInTransaction(async (context, transaction, ct) =>
            {
                await shop.ReleaseStockAsync(transaction, context.State.OrderId, ct);
                reached?.Invoke("release-stock");
            })
            .RecoveryPoint("order-received", "order saved, stock reserved")
            .Stage("take-payment", async (context, ct) =>
            {
                context.State.PaymentId = await payments.ChargeAsync(context.State, context.IdempotencyKey, ct);
                reached?.Invoke("take-payment");
            })
            .RecoveryPoint("paid", "payment taken")
            .TransactionalStage("confirm-order", async (context, transaction, ct) =>
            {
                var order = context.State;
                await shop.ConfirmAsync(transaction, order, ct);
                context.Outbox.Add(NewOrderDestination, new NewOrder(order.OrderId, order.Customer, order.TotalCents(), order.PaymentId!));
                reached?.Invoke("confirm-order");
            })
            .RecoveryPoint("confirmed", "order paid, NewOrder queued")
            .Stage("thank-customer", (context, _) =>
            {
                // Committed with the run's completion: after the last recovery point, the outbox rides on it.
                context.Outbox.Add(ConfirmationDestination, new OrderConfirmation(context.State.OrderId, context.State.Customer));
                return Task.CompletedTask;
            })
            .Retry(policy => (policy with { Interval = TimeSpan.FromSeconds(1) }).WithPermanent<PaymentDeclinedException>().WithPermanent<OutOfStockException>())
            .Build();
    }
}
