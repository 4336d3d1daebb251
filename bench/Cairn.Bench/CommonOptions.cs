using System.CommandLine;

namespace Cairn.Bench;

/// <summary>The options every workload and child mode takes: --store, --durability, --group-commit, --json.</summary>
internal sealed class CommonOptions
{
    private readonly Option<string?> _store = new("--store")
    {
        Description = "The store: a SQLite file (a PostgreSQL connection string later). Default: a fresh temporary file, deleted afterwards",
        HelpName = "PATH",
    };

    private readonly Option<string> _durability = new Option<string>("--durability")
    {
        Description = "full: every commit is flushed to disk (synchronous=FULL); normal: synchronous=NORMAL",
        DefaultValueFactory = _ => BenchSettings.Full,
    }.AcceptOnlyFromAmong(BenchSettings.Full, BenchSettings.Normal);

    private readonly Option<string> _groupCommit = new Option<string>("--group-commit")
    {
        Description = "on: concurrent writes share one transaction and fsync; off: one transaction per write",
        DefaultValueFactory = _ => "on",
    }.AcceptOnlyFromAmong("on", "off");

    private readonly Option<string?> _json = new("--json")
    {
        Description = "Also write the results to this JSON file",
        HelpName = "FILE",
    };

    /// <summary>Creates a workload's command with the common options.</summary>
    public static (Command Command, CommonOptions Options) CreateCommand(string name, string description)
    {
        var options = new CommonOptions();
        var command = new Command(name, description) { options._store, options._durability, options._groupCommit, options._json };
        return (command, options);
    }

    public BenchSettings Read(ParseResult parse) => new(
        parse.GetValue(_store),
        parse.GetRequiredValue(_durability),
        parse.GetRequiredValue(_groupCommit) == "on",
        parse.GetValue(_json));
}
