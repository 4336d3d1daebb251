using Cairn.Flows;
using Cairn.Runs;
using Cairn.Sqlite;
using Cairn.Testing;
using Purchase;
using Reconciliation;

namespace Cairn.Tests.Samples;

/// <summary>Every sample flow crashed at each of its boundaries in turn and resumed: each case completes, and no stage before a committed recovery point runs again.</summary>
public sealed class SampleCrashSweepTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cairn-sample-sweep-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Sweep_QuickStartTransfer_EveryCaseCreditsOnceWithTheSameDebit()
    {
        // The README's flow (samples/QuickStart), over a SQLite file as there.
        var flow = Flow.Create<QuickStartTransfer>("transfer")
            .Stage("debit", (ctx, ct) => { ctx.State.DebitId = $"debit-{ctx.IdempotencyKey}"; return Task.CompletedTask; })
            .RecoveryPoint("debited", "money taken")
            .Stage("credit", (ctx, ct) => { ctx.State.Credited = true; return Task.CompletedTask; })
            .Build();
        var kit = new CrashKit(b => b.UseSqlite(Path.Combine(_folder, "cairn.db")));

        var report = await kit.SweepAsync(flow, new QuickStartTransfer("ACC-1", "ACC-2", 100m), c =>
        {
            c.AssertRecovered();
            Assert.Equal($"debit-{c.Outcome.RunId}:debit", c.State!.DebitId);
            Assert.True(c.State.Credited);
        });

        // before debit, after debited, before credit.
        Assert.Equal(3, report.CasesRun);
    }

    [Fact]
    public async Task Sweep_Reconciliation_EveryCaseReconcilesEachAccountAndArchivesTheReport()
    {
        SampleData.Write(_folder, accounts: 3);
        var flow = ReconciliationFlow.Create();
        var kit = new CrashKit();

        var report = await kit.SweepAsync(flow, new ReconciliationState { Folder = _folder }, c =>
        {
            c.AssertRecovered();
            var state = c.State!;
            Assert.Equal(["ACC-0001", "ACC-0002", "ACC-0003"], state.Results.Select(r => r.Account).Order(StringComparer.Ordinal));
            Assert.Equal(Path.Combine(_folder, "report.csv"), state.ReportPath);
            Assert.Null(state.ArchiveError);
            Assert.True(File.Exists(state.ArchivedTo), state.ArchivedTo);
            Assert.Equal(2, c.Runs.Count);
        });

        // load-accounts, accounts-loaded; per account 9 (select, read-ledger, ledger-read, fetch-both/ledger, read-bank,
        // bank-read, fetch-both/bank, compare, account-reconciled); publish 4 (render, rendered, upload, publish/publish-report);
        // the wait at archive; its child run 3 (copy-report, copied, index-report).
        Assert.Equal(2 + (3 * 9) + 4 + 1 + 3, report.CasesRun);
    }

    [Fact]
    public async Task Sweep_Purchase_EveryCaseSavesTheOrderOnceAndChargesOnce()
    {
        var path = Path.Combine(_folder, "purchase.db");
        await using var payments = await FakePaymentService.StartAsync();
        await using var shop = ShopDatabase.ForSqlite(path);
        await shop.CreateAsync(new Dictionary<string, int> { ["BOOK-1"] = 100 });
        using var http = new HttpClient { BaseAddress = payments.Address };
        var flow = PurchaseFlow.Create(shop, new PaymentClient(http));
        var kit = new CrashKit(b => b.UseSqlite(path));
        var runs = new List<RunId>();

        var report = await kit.SweepAsync(
            flow,
            new PurchaseOrder { OrderId = "order-1", Customer = "ada", Lines = [new OrderLine("BOOK-1", 1, 1250)] },
            c =>
            {
                c.AssertRecovered();
                Assert.NotNull(c.State!.PaymentId);
                runs.Add(c.Outcome.RunId);
            });

        // save-order, order-received, take-payment, paid, confirm-order, confirmed, thank-customer.
        Assert.Equal(7, report.CasesRun);

        // One run without a crash and one per case, each saving its order once (the transactional stage commits with its
        // recovery point) and charged once (a charge repeated after a crash has the same idempotency key).
        var log = await shop.ReadLogAsync();
        Assert.Equal(8, log.Count(l => l.Event == "received"));
        Assert.Equal(8, payments.Charges);
        Assert.All(runs, run => Assert.Single(payments.Calls.Select(c => c.IdempotencyKey).Distinct(), k => k.StartsWith($"{run}:", StringComparison.Ordinal)));
    }

    private sealed record QuickStartTransfer(string From, string To, decimal Amount)
    {
        public string? DebitId { get; set; }

        public bool Credited { get; set; }
    }
}
