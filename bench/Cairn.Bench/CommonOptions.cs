namespace Cairn.Bench;

/// <summary>The options every workload and child mode takes: --store, --schema, --durability, --group-commit, --json.</summary>
internal sealed class CommonOptions
{
    private readonly Option<string?> _store = Named<string?>(
        "--store", "STORE",
        "The store: a SQLite file; 'postgres' for a throwaway PostgreSQL cluster on 127.0.0.1 (fsync on); or a PostgreSQL connection string. Default: a fresh temporary SQLite file, deleted afterwards");

    private readonly Option<string?> _schema = Named<string?>("--schema", "NAME", "PostgreSQL only: the schema to use. Default: a fresh one, dropped afterwards");

    private readonly Option<string> _durability = OneOf(
        "--durability",
        "full: every commit is flushed to disk (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on); normal: SQLite synchronous=NORMAL, PostgreSQL synchronous_commit=off",
        BenchSettings.Full, BenchSettings.Normal);

    private readonly Option<string> _groupCommit = OneOf("--group-commit", "on: concurrent writes share one transaction and fsync; off: one transaction per write", "on", "off");

    private readonly Option<int?> _writers = Named<int?>(
        "--group-commit-writers", "N",
        "PostgreSQL: how many group commits may be in flight at once (PostgresStoreOptions.GroupCommitWriters). Default: the store's");

    private readonly Option<string?> _json = Named<string?>("--json", "FILE", "Also write the results to this JSON file");

    /// <summary>Creates a workload's command with the common options, then <paramref name="own"/>, the workload's own.</summary>
    public static (Command Command, CommonOptions Options) CreateCommand(string name, string description, params Option[] own)
    {
        var options = new CommonOptions();
        var command = new Command(name, description) { options._store, options._schema, options._durability, options._groupCommit, options._writers, options._json };
        foreach (var option in own)
        {
            command.Add(option);
        }

        return (command, options);
    }

    /// <summary>--runs: how many runs the workload measures (or interrupts).</summary>
    public static Option<int> Runs(string description, int defaultValue) =>
        new("--runs") { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>--state-bytes: the serialized size of the runs' state.</summary>
    public static Option<int> StateBytes() =>
        new("--state-bytes") { Description = "The serialized state's size in bytes", DefaultValueFactory = _ => 100 };

    /// <summary>--timeout: how long a workload of phases waits for each phase.</summary>
    public static Option<int> PhaseTimeout(int defaultSeconds) =>
        new("--timeout") { Description = "Seconds to wait for each phase", DefaultValueFactory = _ => defaultSeconds };

    private static Option<T> Named<T>(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName };

    /// <summary>An option that accepts only <paramref name="values"/>, the first being its default.</summary>
    private static Option<string> OneOf(string name, string description, params string[] values) =>
        new Option<string>(name) { Description = description, DefaultValueFactory = _ => values[0] }.AcceptOnlyFromAmong(values);

    public BenchSettings Read(ParseResult parse) => new(
        parse.GetValue(_store),
        parse.GetValue(_schema),
        parse.GetRequiredValue(_durability),
        parse.GetRequiredValue(_groupCommit) == "on",
        parse.GetValue(_json)) { GroupCommitWriters = parse.GetValue(_writers) };
}
