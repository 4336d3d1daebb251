using Cairn.Flows;

namespace OrderApproval;

/// <summary>
/// An order over <see cref="Limit"/> waits for a manager's approval — a signal named "approval" — for up to
/// <see cref="ApprovalTimeout"/>, without holding a slot: the run is saved and costs a row while it waits, across restarts.
/// An approved order (or one within the limit) is charged; a rejected one, or one nobody decided on in time, is not.
/// </summary>
public static class OrderApprovalFlow
{
    public const string Name = "order-approval";

    /// <summary>Orders above this amount need an approval.</summary>
    public const decimal Limit = 1_000m;

    /// <summary>How long an order waits for its approval before it is turned down.</summary>
    public static readonly TimeSpan ApprovalTimeout = TimeSpan.FromDays(2);

    public static Flow<ApprovalOrder> Create(Payments payments) => Flow.Create<ApprovalOrder>(Name, 1)
        .Stage("check", (context, _) =>
        {
            var order = context.State;
            order.Journal.Add(order.Amount > Limit ? $"{order.Amount:0.00} is over the limit: waits for an approval" : $"{order.Amount:0.00} is within the limit");
            return Task.CompletedTask;
        })
        .RecoveryPoint("checked", "order checked")
        .If("over-limit", order => order.Amount > Limit, needsApproval => needsApproval
            .WaitFor<Approval>(
                "approval",
                (order, approval) =>
                {
                    order.ApprovedBy = approval.Approved ? approval.By : null;
                    order.RejectedBecause = approval.Approved ? null : $"rejected by {approval.By}: {approval.Reason ?? "no reason given"}";
                    order.Journal.Add(approval.Approved ? $"approved by {approval.By}" : $"rejected by {approval.By}");
                },
                ApprovalTimeout,
                timedOut => timedOut.Stage("turn-down", (context, _) =>
                {
                    context.State.RejectedBecause = $"no approval within {ApprovalTimeout.TotalDays:0} days";
                    context.State.Journal.Add("turned down: nobody approved it in time");
                    return Task.CompletedTask;
                })))
        .If("may-charge", order => order.RejectedBecause is null, charge => charge
            .Stage("charge", (context, _) =>
            {
                context.State.PaymentReference = payments.Charge(context.IdempotencyKey, context.State.Amount);
                context.State.Journal.Add($"charged {context.State.Amount:0.00} ({context.State.PaymentReference})");
                return Task.CompletedTask;
            })
            .RecoveryPoint("charged", "payment taken"))
        .Stage("notify", (context, _) =>
        {
            context.State.Journal.Add(context.State.PaymentReference is null ? $"told {context.State.Customer}: not charged" : $"told {context.State.Customer}: confirmed");
            return Task.CompletedTask;
        })
        .Build();
}
