namespace Cairn.Runs;

/// <summary>An engine's scheduled purge, as its operator API tells it (<see cref="RunOperator.PurgeSettings"/>).</summary>
/// <param name="RetentionPeriod">How long finished runs are kept (<see cref="CairnOptions.RetentionPeriod"/>); null: the engine purges nothing by itself.</param>
/// <param name="Interval">How often the purge runs (<see cref="CairnOptions.PurgeInterval"/>).</param>
public sealed record PurgeSettings(TimeSpan? RetentionPeriod, TimeSpan Interval);
