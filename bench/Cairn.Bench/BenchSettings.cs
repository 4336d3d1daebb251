namespace Cairn.Bench;

/// <summary>The options every workload takes.</summary>
/// <param name="Store">The store's location: a SQLite file; null for a fresh temporary file deleted afterwards.</param>
/// <param name="Durability">"full" (every commit flushed to disk) or "normal".</param>
/// <param name="GroupCommit">Whether the store may commit several runs' writes in one transaction.</param>
/// <param name="JsonPath">Where to write the results as JSON; null for none.</param>
internal sealed record BenchSettings(string? Store, string Durability, bool GroupCommit, string? JsonPath)
{
    public const string Full = "full";
    public const string Normal = "normal";
}
