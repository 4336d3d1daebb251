using Cairn;
using Cairn.Runs;
using Cairn.Sqlite;
using OrderApproval;

// Two orders on a SQLite store in a temporary folder: one within the limit runs straight through; one over it saves its
// state and waits for the "approval" signal, which this program then sends as a manager would (cairn runs signal ...).
var folder = Directory.CreateTempSubdirectory("cairn-order-approval-").FullName;
var payments = new Payments();
var flow = OrderApprovalFlow.Create(payments);
await using var engine = CairnEngine.CreateBuilder().UseSqlite(Path.Combine(folder, "cairn.db")).AddFlow(flow).Build();

var small = await engine.RunAsync(flow, new ApprovalOrder { OrderId = "A-1", Customer = "Ada", Amount = 120m }, "A-1");
Console.WriteLine($"A-1: {small.Status}: {string.Join("; ", small.Result!.Journal)}");

var large = await engine.StartRunAsync(flow, new ApprovalOrder { OrderId = "B-2", Customer = "Brian", Amount = 4_800m }, "B-2");
while ((await engine.Operator.GetRunAsync(large.Id))!.Status != RunStatus.Waiting)
{
    await Task.Delay(50);
}

Console.WriteLine($"B-2: waiting for approval, its slot given up. A manager approves it with:");
Console.WriteLine($"  cairn runs signal {large.Id} approval --store {Path.Combine(folder, "cairn.db")} --payload '{{\"Approved\":true,\"By\":\"Grace\"}}' --id B-2-approval");
await engine.SignalAsync(large.Id, "approval", new Approval(Approved: true, By: "Grace"), signalId: "B-2-approval");

var approved = await engine.WaitForRunAsync(flow, large.Id);
Console.WriteLine($"B-2: {approved.Status}: {string.Join("; ", approved.Result!.Journal)}");
Console.WriteLine($"{payments.Charges} payment(s) taken. Store: {folder}");
