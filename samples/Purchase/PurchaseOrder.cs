namespace Purchase;

/// <summary>The state of one purchase: the order as the customer placed it, and what the flow learned on the way.</summary>
public sealed class PurchaseOrder
{
    public required string OrderId { get; init; }

    public required string Customer { get; init; }

    /// <summary>The card to charge; the fake payment service declines <c>"4000-0000-0000-0002"</c>.</summary>
    public string Card { get; init; } = "4242-4242-4242-4242";

    public required IReadOnlyList<OrderLine> Lines { get; init; }

    /// <summary>The payment service's ID for the charge, once taken.</summary>
    public string? PaymentId { get; set; }

    public long TotalCents() => Lines.Sum(line => line.Quantity * line.UnitPriceCents);
}

/// <summary>One line of an order.</summary>
public sealed record OrderLine(string Sku, int Quantity, long UnitPriceCents);

/// <summary>The message the flow publishes through the outbox once the order is paid.</summary>
public sealed record NewOrder(string OrderId, string Customer, long TotalCents, string PaymentId);

/// <summary>The e-mail the flow sends through the outbox when the purchase is complete.</summary>
public sealed record OrderConfirmation(string OrderId, string Customer);
