namespace Cairn.Cli.Demo;

/// <summary>The flow data of an order import: what each recovery point saves.</summary>
internal sealed class OrderImportState
{
    /// <summary>The CSV file to import.</summary>
    public required string CsvPath { get; init; }

    /// <summary>The SQLite database the orders are loaded into.</summary>
    public required string TargetDatabase { get; init; }

    /// <summary>Where the summary is written.</summary>
    public required string SummaryPath { get; init; }

    /// <summary>Orders read from the CSV (after 'read-csv'), then only the valid ones (after 'validate').</summary>
    public List<Order> Orders { get; set; } = [];

    /// <summary>Lines rejected by validation, with the reason.</summary>
    public List<string> Rejected { get; set; } = [];

    /// <summary>Orders in the target table after 'load-orders'.</summary>
    public int Loaded { get; set; }

    /// <summary>Sum of the loaded orders' amounts.</summary>
    public decimal Total { get; set; }
}
