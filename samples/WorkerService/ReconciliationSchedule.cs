namespace WorkerService;

/// <summary>Which folder is reconciled, and how often: once per period of <see cref="Every"/>, counted from the Unix epoch.</summary>
/// <param name="Folder">The folder with accounts.txt, ledger/ and bank/ (<c>Reconciliation:Folder</c>, default <c>data</c>).</param>
/// <param name="Every">The period (<c>Reconciliation:Every</c>, default one day).</param>
/// <param name="SampleAccounts">
/// When the folder has no accounts.txt, write made-up data for this many accounts into it first, so that the sample runs
/// as it is (<c>Reconciliation:SampleAccounts</c>, default 0: write nothing; appsettings.json says 20).
/// </param>
public sealed record ReconciliationSchedule(string Folder, TimeSpan Every, int SampleAccounts)
{
    /// <summary>
    /// The recovery ID of the period <paramref name="now"/> falls in, the same on every node: the first node to start
    /// it creates the run, the others find it, so a period is reconciled once however many copies run.
    /// </summary>
    public string RecoveryIdAt(DateTimeOffset now)
    {
        var start = DateTimeOffset.UnixEpoch + (Every * Math.Floor((now - DateTimeOffset.UnixEpoch) / Every));
        return $"reconciliation-{start:yyyyMMdd'T'HHmmss'Z'}";
    }
}
