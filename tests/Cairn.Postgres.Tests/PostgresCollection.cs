namespace Cairn.Postgres.Tests;

/// <summary>The test classes that share the run's one <see cref="PostgresCluster"/>.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "PostgreSQL cluster";
}
