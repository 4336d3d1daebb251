using Cairn;
using Cairn.Flows;
using Cairn.Sqlite;

var flow = Flow.Create<Transfer>("transfer")
    .Stage("debit", (ctx, ct) => { ctx.State.DebitId = $"debit-{ctx.IdempotencyKey}"; return Task.CompletedTask; })
    .RecoveryPoint("debited", "money taken")
    .Stage("credit", (ctx, ct) => { ctx.State.Credited = true; return Task.CompletedTask; })
    .Build();

await using var engine = CairnEngine.CreateBuilder().UseSqlite("cairn.db").AddFlow(flow).Build();
var outcome = await engine.RunAsync(flow, new Transfer("ACC-1", "ACC-2", 100m), recoveryId: "transfer-4711");
Console.WriteLine($"{outcome.Status}: {outcome.Result?.DebitId}, credited: {outcome.Result?.Credited}");
// Kill the process after "debited" and run it again with "transfer-4711": only "credit" runs.

public sealed record Transfer(string From, string To, decimal Amount)
{
    public string? DebitId { get; set; }

    public bool Credited { get; set; }
}
