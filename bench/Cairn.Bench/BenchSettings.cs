namespace Cairn.Bench;

/// <summary>The options every workload takes.</summary>
/// <param name="Store">
/// The store: a SQLite file; <c>postgres</c> for a throwaway PostgreSQL cluster; a PostgreSQL connection string; null for
/// a fresh temporary SQLite file deleted afterwards.
/// </param>
/// <param name="Schema">The PostgreSQL schema; null for a fresh one, dropped afterwards.</param>
/// <param name="Durability">"full" (every commit flushed to disk) or "normal".</param>
/// <param name="GroupCommit">Whether the store may commit several runs' writes in one transaction.</param>
/// <param name="JsonPath">Where to write the results as JSON; null for none.</param>
internal sealed record BenchSettings(string? Store, string? Schema, string Durability, bool GroupCommit, string? JsonPath)
{
    /// <summary>PostgreSQL: group commits in flight at once; null for the store's default.</summary>
    public int? GroupCommitWriters { get; init; }

    public const string Full = "full";
    public const string Normal = "normal";
}
