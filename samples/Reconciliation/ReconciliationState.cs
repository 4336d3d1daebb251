namespace Reconciliation;

/// <summary>The state of a nightly reconciliation run: what recovery points save.</summary>
public sealed class ReconciliationState
{
    /// <summary>The folder with <c>accounts.txt</c>, <c>ledger/ACCOUNT.csv</c> and <c>bank/ACCOUNT.csv</c>; results go there too.</summary>
    public string Folder { get; set; } = "";

    /// <summary>The accounts to reconcile, read from <c>accounts.txt</c>.</summary>
    public List<string> Accounts { get; set; } = [];

    /// <summary>The account being reconciled.</summary>
    public string Current { get; set; } = "";

    /// <summary>One line per reconciled account, in account order.</summary>
    public List<AccountResult> Results { get; set; } = [];

    /// <summary>The totals of the account being reconciled, set by the merge of the parallel fetch.</summary>
    public SideTotals Ledger { get; set; } = new();

    /// <summary>The bank side of the account being reconciled.</summary>
    public SideTotals Bank { get; set; } = new();

    /// <summary>Where the report was published.</summary>
    public string? ReportPath { get; set; }

    /// <summary>Where the archiving child run put the report.</summary>
    public string? ArchivedTo { get; set; }

    /// <summary>Why the archiving child run did not complete, if it did not.</summary>
    public string? ArchiveError { get; set; }
}

/// <summary>The state of the archiving child run.</summary>
public sealed class ArchiveState
{
    public string Folder { get; set; } = "";

    public string ReportPath { get; set; } = "";

    public string ArchivedTo { get; set; } = "";
}

/// <summary>One side of an account (the ledger or the bank): a parallel branch's slice of the state.</summary>
public sealed class SideTotals
{
    public string Folder { get; set; } = "";

    public string Account { get; set; } = "";

    public int Entries { get; set; }

    public decimal Total { get; set; }
}

/// <summary>How one account reconciled.</summary>
public sealed record AccountResult(string Account, decimal Ledger, decimal Bank)
{
    public decimal Difference => Bank - Ledger;
}

/// <summary>The state of the publishing sub-flow.</summary>
public sealed class ReportState
{
    public string Folder { get; set; } = "";

    public List<AccountResult> Results { get; set; } = [];

    public string Text { get; set; } = "";

    public string? PublishedTo { get; set; }
}
