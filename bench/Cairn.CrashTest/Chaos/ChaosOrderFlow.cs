using System.Data.Common;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// <c>chaos-order</c>: what the library offers for effects outside the state. A transactional stage writes an effect row
/// and an outbox message with its recovery point (compensated in a transaction by an undo row), a durable timer, a
/// detached sub-flow (<c>chaos-shipment</c>), a wait for a signal with a timeout, a charge that is declined (the run is
/// compensated) or fails in the first attempt (the run is retried), a second transactional stage with its message, and
/// a message committed with the run's completion. Every stage tells <c>started</c> its run, place and attempt first.
/// </summary>
internal static class ChaosOrderFlow
{
    public const string Name = "chaos-order";
    public const string ShipmentName = "chaos-shipment";

    /// <summary>How long a run waits for its decision before it goes on without one.</summary>
    public static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(8);

    /// <summary>The outbox destinations, each a message key: one message of each per run at most.</summary>
    public const string Recorded = "chaos-recorded";
    public const string Confirmed = "chaos-confirmed";
    public const string Thanked = "chaos-thanked";

    /// <summary>The effect rows the transactional stages and the compensation write.</summary>
    public const string RecordEffect = "record";
    public const string ConfirmEffect = "confirm";
    public const string UndoEffect = "undo-record";

    /// <summary>Where each stage and recovery point sits: every step of both flows is in the top-level sequence.</summary>
    public static readonly ChaosLanes Lanes = new(new Dictionary<string, string>(), unknownIsTopLevel: true);

    public static Flow<ChaosOrder> Create(ChaosStageJournal started) => Flow.Create<ChaosOrder>(Name)
        .TransactionalStage(RecordEffect, async (context, transaction, ct) =>
        {
            started.Started(context);
            await ChaosEffects.WriteAsync(transaction, context.RunId, RecordEffect, context.Recovery.Attempt, ct);
            context.Outbox.Add(Recorded, new { context.State.Key });
        })
        .CompensateInTransaction(async (context, transaction, ct) =>
            await ChaosEffects.WriteAsync(transaction, context.RunId, UndoEffect, context.Recovery.Attempt, ct))
        .RecoveryPoint("recorded", "effect and message committed")
        .Delay("cool-off", TimeSpan.FromSeconds(1))
        .DetachedSubFlow("ship", Shipment(started), s => new ChaosShipment { Order = s.Key }, (s, shipment) =>
        {
            s.ShipmentLabel = shipment.Result?.Label;
            s.ShipmentError = shipment.IsCompleted ? null : $"{shipment.Status}: {shipment.Error}";
        })
        .WaitFor<ChaosDecision>(
            "decision",
            (s, decision) => s.Answer = decision.Approve ? "approve" : "decline",
            DecisionTimeout,
            timedOut => timedOut.Stage("expire", (context, _) =>
            {
                started.Started(context);
                context.State.Expired = true;
                return Task.CompletedTask;
            }))
        .Stage("charge", (context, _) =>
        {
            started.Started(context);
            if (context.State.Answer == "decline")
            {
                throw new ChaosDeclinedException($"order {context.State.Key} was declined");
            }

            if (context.State.Flaky && context.Recovery.Attempt == 1)
            {
                throw new InvalidOperationException($"order {context.State.Key}: the charge failed in the first attempt, as planned");
            }

            context.State.Charged = !context.State.Expired;
            return Task.CompletedTask;
        })
        .RecoveryPoint("charged")
        .TransactionalStage(ConfirmEffect, async (context, transaction, ct) =>
        {
            started.Started(context);
            await ChaosEffects.WriteAsync(transaction, context.RunId, ConfirmEffect, context.Recovery.Attempt, ct);
            context.Outbox.Add(Confirmed, new { context.State.Key });
        })
        .RecoveryPoint("confirmed", "order confirmed")
        .Stage("thank", (context, _) =>
        {
            started.Started(context);

            // Committed with the run's completion: after the last recovery point, the outbox rides on it.
            context.Outbox.Add(Thanked, new { context.State.Key });
            return Task.CompletedTask;
        })
        .Retry((new RetryPolicy { MaxRetries = 3, Interval = TimeSpan.FromMilliseconds(500), BackoffFactor = 1 }).WithPermanent<ChaosDeclinedException>())
        .Build();

    private static Flow<ChaosShipment> Shipment(ChaosStageJournal started) => Flow.Create<ChaosShipment>(ShipmentName)
        .Stage("pack", (context, _) =>
        {
            started.Started(context);
            context.State.Packed = true;
            return Task.CompletedTask;
        })
        .RecoveryPoint("packed")
        .Stage("label", (context, _) =>
        {
            started.Started(context);
            context.State.Label = $"label-{context.State.Order}";
            return Task.CompletedTask;
        })
        .Retry(new RetryPolicy { MaxRetries = 3, Interval = TimeSpan.FromMilliseconds(500), BackoffFactor = 1 })
        .Build();
}
