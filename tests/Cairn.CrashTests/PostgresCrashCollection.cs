namespace Cairn.CrashTests;

/// <summary>The crash-test classes that share one throwaway PostgreSQL cluster.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCrashCollection : ICollectionFixture<Cairn.Postgres.TestSupport.PostgresCluster>
{
    public const string Name = "PostgreSQL cluster for crash tests";
}
