namespace Cairn.Cli.Tests;

/// <summary>The test classes that share the run's one throwaway PostgreSQL cluster; each uses a database of its own.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCliCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "PostgreSQL cluster";
}
