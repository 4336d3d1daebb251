namespace Cairn.Cli.Tests;

/// <summary>
/// A node test on the shared throwaway PostgreSQL cluster: a database of its own, created before the test and dropped
/// after it, and a temporary folder for the nodes' journals.
/// </summary>
public abstract class NodeDatabaseTest(PostgresCluster cluster, string prefix) : IAsyncLifetime
{
    private readonly string _database = $"{prefix}_{Guid.NewGuid().ToString("N")[..12]}";

    protected PostgresCluster Cluster => cluster;

    /// <summary>The folder for journals and other files, deleted after the test.</summary>
    protected string Dir { get; } = Directory.CreateTempSubdirectory($"cairn-{prefix}-").FullName;

    /// <summary>The connection string of the test's database.</summary>
    protected string Store => cluster.Server.ConnectionString(_database);

    public Task InitializeAsync() => cluster.ExecuteAsync($"CREATE DATABASE {_database}");

    public async Task DisposeAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        await cluster.ExecuteAsync($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
        Directory.Delete(Dir, recursive: true);
    }

    /// <summary>The journal files of <paramref name="nodes"/> nodes, in the test's folder.</summary>
    protected List<string> Journals(int nodes) => [.. Enumerable.Range(0, nodes).Select(i => Path.Combine(Dir, $"journal-{i}.txt"))];
}
