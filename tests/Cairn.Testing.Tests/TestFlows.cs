using System.Collections.Concurrent;

namespace Cairn.Testing.Tests;

public sealed class Order
{
    public List<string> Items { get; set; } = [];

    public int Packed { get; set; }

    public bool Express { get; set; }

    public string? Route { get; set; }

    public int Ledger { get; set; }

    public int Bank { get; set; }

    public int Price { get; set; }

    public string? Shipment { get; set; }

    public bool Closed { get; set; }
}

public sealed class Side
{
    public int Value { get; set; }
}

public sealed class Invoice
{
    public int Lines { get; set; }

    public int Price { get; set; }

    public bool Signed { get; set; }
}

public sealed class Shipment
{
    public int Parcels { get; set; }

    public string? Label { get; set; }
}

/// <summary>Flows over every kind of step, and a record of what their stages did outside the run.</summary>
public sealed class TestFlows
{
    /// <summary>What stages did to the outside world: (run, what), once per execution.</summary>
    public ConcurrentQueue<(RunId Run, string What)> Outside { get; } = new();

    /// <summary>
    /// load, loaded; ForEach pack (pack-item, packed) over two items; If express (fly | standard); Parallel fetch
    /// (ledger: ledger-read, ledger-done; bank: bank-read); SubFlow invoice (price, priced, sign); DetachedSubFlow ship
    /// (book, booked, label); close.
    /// </summary>
    public Flow<Order> Order()
    {
        var invoice = Flow.Create<Invoice>("invoice")
            .Stage("price", Step<Invoice>("price", s => s.Price = s.Lines * 10))
            .RecoveryPoint("priced")
            .Stage("sign", Step<Invoice>("sign", s => s.Signed = true))
            .Build();
        var ship = Flow.Create<Shipment>("ship")
            .Stage("book", Step<Shipment>("book", s => s.Parcels++))
            .RecoveryPoint("booked")
            .Stage("label", Step<Shipment>("label", s => s.Label = $"{s.Parcels} parcel(s)"))
            .Build();
        return Flow.Create<Order>("order")
            .Stage("load", Step<Order>("load", s => s.Items = ["a", "b"]))
            .RecoveryPoint("loaded")
            .ForEach("pack", s => s.Items, b => b
                .Stage("pack-item", Step<Order>("pack-item", s => s.Packed++))
                .RecoveryPoint("packed"))
            .If("express", s => s.Express,
                then => then.Stage("fly", Step<Order>("fly", s => s.Route = "air")),
                otherwise => otherwise.Stage("standard", Step<Order>("standard", s => s.Route = "road")))
            .Parallel<Side>(
                "fetch",
                p => p
                    .Branch("ledger", _ => new Side(), b => b
                        .Stage("ledger-read", Step<Side>("ledger-read", s => s.Value = 7))
                        .RecoveryPoint("ledger-done"))
                    .Branch("bank", _ => new Side(), b => b
                        .Stage("bank-read", Step<Side>("bank-read", s => s.Value = 5))),
                (state, slices) =>
                {
                    state.Ledger = slices["ledger"].Value;
                    state.Bank = slices["bank"].Value;
                })
            .SubFlow("invoice", invoice, s => new Invoice { Lines = s.Items.Count }, (s, i) => s.Price = i.Signed ? i.Price : -1)
            .DetachedSubFlow("ship", ship, s => new Shipment(), (s, outcome) => s.Shipment = outcome.Result?.Label)
            .Stage("close", Step<Order>("close", s => s.Closed = true))
            .Build();
    }

    /// <summary>reserve, reserved, charge, charged, notify: each stage records itself outside.</summary>
    public Flow<Order> Purchase() =>
        Flow.Create<Order>("purchase")
            .Stage("reserve", Step<Order>("reserve", _ => { }))
            .RecoveryPoint("reserved")
            .Stage("charge", Step<Order>("charge", _ => { }))
            .RecoveryPoint("charged")
            .Stage("notify", Step<Order>("notify", s => s.Closed = true))
            .Build();

    /// <summary>
    /// prepare, prepared, send-email, finish, done, archive: send-email is not idempotent and no recovery point follows it
    /// before finish, so a crash before finish sends the e-mail again.
    /// </summary>
    public Flow<Order> Mailer() =>
        Flow.Create<Order>("mailer")
            .Stage("prepare", Step<Order>("prepare", _ => { }))
            .RecoveryPoint("prepared")
            .Stage("send-email", Step<Order>("send-email", _ => { }))
            .Stage("finish", Step<Order>("finish", s => s.Closed = true))
            .RecoveryPoint("done")
            .Stage("archive", Step<Order>("archive", _ => { }))
            .Build();

    public int CountOutside(RunId run, string what) => Outside.Count(o => o.Run == run && o.What == what);

    private Func<StageContext<TState>, CancellationToken, Task> Step<TState>(string what, Action<TState> change) =>
        (context, _) =>
        {
            Outside.Enqueue((context.RunId, what));
            change(context.State);
            return Task.CompletedTask;
        };
}
