namespace OrderApproval;

/// <summary>The state of an order on its way through approval, payment and notification.</summary>
public sealed class ApprovalOrder
{
    public string OrderId { get; set; } = "";

    public string Customer { get; set; } = "";

    public decimal Amount { get; set; }

    /// <summary>Who approved an order over the limit; null for an order within it.</summary>
    public string? ApprovedBy { get; set; }

    /// <summary>Why the order was not charged; null while it may be.</summary>
    public string? RejectedBecause { get; set; }

    /// <summary>The payment's reference once charged.</summary>
    public string? PaymentReference { get; set; }

    /// <summary>What happened, in order: for the sample's output and its tests.</summary>
    public List<string> Journal { get; set; } = [];
}

/// <summary>A manager's decision on an order over the limit: the payload of the "approval" signal.</summary>
/// <param name="Approved">Whether the order may be charged.</param>
/// <param name="By">Who decided.</param>
/// <param name="Reason">Why, when rejected.</param>
public sealed record Approval(bool Approved, string By, string? Reason = null);
