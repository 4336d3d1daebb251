using System.Globalization;
using System.Text;
using Cairn;
using Cairn.Flows;

namespace Reconciliation;

/// <summary>
/// Nightly payment reconciliation: for each account, read the ledger and the bank statement in parallel, compare the
/// totals, and record the result; then publish a report through an inline sub-flow. Recovery points sit inside the loop
/// (after each account), inside the parallel branches (after each side is read) and inside the sub-flow (after the
/// report is rendered): a crash resumes in the middle of the account, the branch or the sub-flow it was in, and never
/// reads a finished account or side again.
/// </summary>
public static class ReconciliationFlow
{
    public const string Name = "reconciliation";

    /// <summary>Creates the flow. <paramref name="stageStarted"/> is told each stage and its account (or "-"), for demos and tests.</summary>
    public static Flow<ReconciliationState> Create(Action<string, string>? stageStarted = null)
    {
        var started = stageStarted ?? ((_, _) => { });
        return Flow.Create<ReconciliationState>(Name, version: 1)
            .ReportedStage("load-accounts", started, async (context, ct) =>
            {
                var lines = await File.ReadAllLinesAsync(Path.Combine(context.State.Folder, "accounts.txt"), ct);
                context.State.Accounts = [.. lines.Select(l => l.Trim()).Where(l => l.Length > 0)];
                context.StatusMessage = $"{context.State.Accounts.Count} accounts to reconcile";
            })
            .RecoveryPoint("accounts-loaded")
            .ForEach("each-account", s => s.Accounts, account => account
                .Stage("select", (context, _) =>
                {
                    context.State.Current = context.Item<string>();
                    return Task.CompletedTask;
                })
                .Parallel<SideTotals>(
                    "fetch-both",
                    sides => sides
                        .Branch("ledger", s => new SideTotals { Folder = s.Folder, Account = s.Current }, ledger => ledger
                            .Stage("read-ledger", (context, ct) => ReadSideAsync(context, "ledger", started, ct))
                            .RecoveryPoint("ledger-read"))
                        .Branch("bank", s => new SideTotals { Folder = s.Folder, Account = s.Current }, bank => bank
                            .Stage("read-bank", (context, ct) => ReadSideAsync(context, "bank", started, ct))
                            .RecoveryPoint("bank-read")),
                    (state, sides) =>
                    {
                        state.Ledger = sides["ledger"];
                        state.Bank = sides["bank"];
                    },
                    // A side that fails (a bank file not there yet) lets the other side finish and save: the retry reads
                    // only the failed side again.
                    ParallelFailure.FinishOthers)
                .Stage("compare", async (context, ct) =>
                {
                    var state = context.State;
                    var account = state.Current;
                    started("compare", account);
                    var result = new AccountResult(account, state.Ledger.Total, state.Bank.Total);
                    state.Results.RemoveAll(r => r.Account == account);
                    state.Results.Add(result);

                    // Idempotent: the result file of an account is written whole, so writing it again changes nothing.
                    var results = Directory.CreateDirectory(Path.Combine(state.Folder, "results")).FullName;
                    await File.WriteAllTextAsync(Path.Combine(results, $"{account}.txt"), Line(result), ct);
                    context.StatusMessage = $"{account}: difference {result.Difference.ToString("F2", CultureInfo.InvariantCulture)}";
                })
                .RecoveryPoint("account-reconciled"))
            .SubFlow("publish", PublishFlow(started), s => new ReportState { Folder = s.Folder, Results = s.Results }, (s, report) => s.ReportPath = report.PublishedTo)
            .DetachedSubFlow("archive", ArchiveFlow(started), s => new ArchiveState { Folder = s.Folder, ReportPath = s.ReportPath! }, (s, archive) =>
            {
                // The child is a run of its own: its failure arrives here as an outcome, and the night's work is kept.
                if (archive.IsCompleted)
                {
                    s.ArchivedTo = archive.Result!.ArchivedTo;
                }
                else
                {
                    s.ArchiveError = archive.Error;
                }
            })
            .Retry(policy => policy with { MaxRetries = 3, Interval = TimeSpan.FromSeconds(2) })
            .Build();
    }

    /// <summary>The publishing sub-flow: render the report, then upload it (here: move it into place).</summary>
    public static Flow<ReportState> PublishFlow(Action<string, string>? stageStarted = null)
    {
        var started = stageStarted ?? ((_, _) => { });
        return Flow.Create<ReportState>("publish-report")
            .ReportedStage("render", started, (context, _) =>
            {
                var text = new StringBuilder("account,ledger,bank,difference\n");
                foreach (var result in context.State.Results)
                {
                    text.Append(Line(result));
                }

                context.State.Text = text.ToString();
                return Task.CompletedTask;
            })
            .RecoveryPoint("rendered", "report rendered")
            .ReportedStage("upload", started, async (context, ct) =>
            {
                var target = Path.Combine(context.State.Folder, "report.csv");
                var temporary = target + ".tmp";
                await File.WriteAllTextAsync(temporary, context.State.Text, ct);
                File.Move(temporary, target, overwrite: true);
                context.State.PublishedTo = target;
            })
            .Build();
    }

    /// <summary>
    /// The archiving child flow, a run of its own started by the reconciliation as a detached sub-flow: copy the report
    /// into the archive, then index it. Both steps overwrite whole files, so running them again changes nothing.
    /// </summary>
    public static Flow<ArchiveState> ArchiveFlow(Action<string, string>? stageStarted = null)
    {
        var started = stageStarted ?? ((_, _) => { });
        return Flow.Create<ArchiveState>("archive-report")
            .ReportedStage("copy-report", started, (context, _) =>
            {
                var archive = Directory.CreateDirectory(Path.Combine(context.State.Folder, "archive")).FullName;
                context.State.ArchivedTo = Path.Combine(archive, $"report-{context.RecoveryId.Split(':')[0]}.csv");
                File.Copy(context.State.ReportPath, context.State.ArchivedTo, overwrite: true);
                return Task.CompletedTask;
            })
            .RecoveryPoint("copied", "report archived")
            .ReportedStage("index-report", started, async (context, ct) =>
            {
                var index = Path.Combine(context.State.Folder, "archive", "index.txt");
                await File.WriteAllTextAsync(index, Path.GetFileName(context.State.ArchivedTo) + "\n", ct);
            })
            .Build();
    }

    private static async Task ReadSideAsync(StageContext<SideTotals> context, string side, Action<string, string> started, CancellationToken ct)
    {
        var slice = context.State;
        started($"read-{side}", slice.Account);
        var path = Path.Combine(slice.Folder, side, $"{slice.Account}.csv");
        var lines = await File.ReadAllLinesAsync(path, ct);
        slice.Entries = 0;
        slice.Total = 0;
        foreach (var line in lines.Skip(1))
        {
            slice.Entries++;
            slice.Total += decimal.Parse(line.Split(',')[1], CultureInfo.InvariantCulture);
        }
    }

    // A stage outside the account loop: it tells 'started' it began (account "-") before it does its work.
    private static TSelf ReportedStage<TState, TSelf>(
        this StepsBuilder<TState, TSelf> steps, string name, Action<string, string> started, Func<StageContext<TState>, CancellationToken, Task> work)
        where TSelf : StepsBuilder<TState, TSelf> =>
        steps.Stage(name, (context, ct) =>
        {
            started(name, "-");
            return work(context, ct);
        });

    private static string Line(AccountResult result) => string.Create(
        CultureInfo.InvariantCulture, $"{result.Account},{result.Ledger:F2},{result.Bank:F2},{result.Difference:F2}\n");
}
