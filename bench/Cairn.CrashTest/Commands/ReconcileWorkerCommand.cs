using System.CommandLine;
using Cairn.Cli;
using Cairn.Cli.Commands;
using Reconciliation;

namespace Cairn.CrashTest.Commands;

/// <summary>
/// <c>reconcile-worker</c> (hidden): runs the reconciliation sample (a loop over accounts, parallel ledger and bank
/// branches, a publishing sub-flow) in this process for the crash tests. It journals every stage start, can stop itself
/// in a chosen stage of a chosen account and wait to be killed, and speaks the same line protocol as <c>demo-worker</c>.
/// </summary>
internal static class ReconcileWorkerCommand
{
    public static Command Create()
    {
        var worker = new WorkerCommand(
            "reconcile-worker", "Run the reconciliation sample in this process (used by the crash tests)",
            "Folder with accounts.txt, ledger/ and bank/; results/ and report.csv go there too");
        var journal = new Option<string?>("--journal")
        {
            Description = "Append a line per stage start to this file: 'STAGE ACCOUNT' as the sample reports it (account '-' outside the loop), and 'engine STAGE ATTEMPT' for every stage the engine starts",
        };
        var hangIn = new Option<string?>("--hang-in") { Description = "STAGE:ACCOUNT: after journaling that stage's start, print HANG and wait to be killed" };
        var command = worker.Command;
        command.Options.Add(journal);
        command.Options.Add(hangIn);
        command.SetAction(async (parse, ct) =>
        {
            var journalPath = parse.GetValue(journal);
            var hangAt = parse.GetValue(hangIn);
            if (hangAt is not null && !hangAt.Contains(':', StringComparison.Ordinal))
            {
                throw new ArgumentException($"--hang-in must be STAGE:ACCOUNT (ACCOUNT '-' outside the loop), not '{hangAt}'.");
            }

            // Parallel branches start stages at the same time: one writer at a time keeps the journal's lines whole.
            var journalLock = new Lock();
            void Journal(string line)
            {
                if (journalPath is not null)
                {
                    lock (journalLock)
                    {
                        File.AppendAllText(journalPath, line + "\n");
                    }
                }
            }

            using var listener = WorkerProtocol.Listen(
                stageStarted: activity => Journal($"engine {activity.GetTagItem(Cairn.Diagnostics.Telemetry.StageTag)} {activity.GetTagItem(Cairn.Diagnostics.Telemetry.AttemptTag)}"),
                pointCommitted: null);
            var flow = ReconciliationFlow.Create((stage, account) =>
            {
                // Written through before the stage does its work: the crash tests count these lines.
                Journal($"{stage} {account}");
                if ($"{stage}:{account}" == hangAt)
                {
                    WorkerProtocol.Hang();
                }
            });
            var input = new ReconciliationState { Folder = worker.Directory(parse) };
            return await worker.RunAsync(
                parse, flow, input,
                o =>
                {
                    // A parent waiting for its detached child checks it this seldom on its own: the child's end wakes it.
                    o.ChildRunCheckInterval = TimeSpan.FromMinutes(10);
                    // The sample sets its own retry policy (2 s apart) for failed stages; this one applies to flows
                    // without a policy and to when interrupted runs resume if that is set to wait for it.
                    o.DefaultRetryPolicy = RetryPolicy.Default with { Interval = TimeSpan.FromMilliseconds(200) };
                },
                outcome => string.Create(
                    CultureInfo.InvariantCulture,
                    $"{outcome.Result!.Results.Count} {outcome.Result.Results.Count(r => r.Difference != 0)} {outcome.WasAlreadyCompleted}"),
                ct);
        });
        return command;
    }
}
