using Cairn.Serialization.Protection;

namespace Cairn;

/// <summary>Engine settings, validated once when the engine is built.</summary>
public sealed class CairnOptions
{
    /// <summary>This engine's node name, shown on the runs it owns. Default: <c>MACHINE-PID</c> plus a short random suffix.</summary>
    public string? NodeName { get; set; }

    /// <summary>The most runs this engine executes at once. Default 64.</summary>
    public int MaxConcurrentRuns { get; set; } = 64;

    /// <summary>How often the engine looks for due runs when nothing wakes it. Default 1 second.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a parent run waiting for the child run of a detached sub-flow checks the child, should the child's end
    /// not wake it (the child's node died between finishing and waking, say). Default 1 minute.
    /// </summary>
    public TimeSpan ChildRunCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a claim holds without a heartbeat; renewed every third of it. Default 30 seconds.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a graceful stop lets running stages finish before cancelling them. Default 30 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The retry policy of flows that set none. Default <see cref="RetryPolicy.Default"/>.</summary>
    public RetryPolicy DefaultRetryPolicy { get; set; } = RetryPolicy.Default;

    /// <summary>When runs found interrupted at start-up resume. Default <see cref="InterruptedRunResume.Immediately"/>.</summary>
    public InterruptedRunResume ResumeInterruptedRuns { get; set; } = InterruptedRunResume.Immediately;

    /// <summary>
    /// The recovery switch. When false, the engine leaves interrupted runs alone — those its node left running when it
    /// stopped or died, and those of nodes whose leases expired: they stay <see cref="RunStatus.Interrupted"/> with their
    /// checkpoints kept, and the engine logs how many it leaves at start-up. New runs still run and still save recovery
    /// points. Switched on again, the next start resumes every interrupted run from its last recovery point. Default true.
    /// </summary>
    public bool RecoverInterruptedRuns { get; set; } = true;

    /// <summary>Completed, failed and cancelled runs older than this are purged on a schedule; null turns the schedule off. Default 7 days.</summary>
    public TimeSpan? RetentionPeriod { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the scheduled purge runs. Default 1 hour.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long stream content that no kept checkpoint refers to stays in the stream store before the scheduled sweep
    /// deletes it: content of completed, purged or re-run runs, and content put by attempts that died before their
    /// recovery point. A stage must reach the recovery point after a put within this time. Default 24 hours.
    /// </summary>
    public TimeSpan OrphanStreamAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The largest serialized state a recovery point may save, in bytes. Default 256 MiB.</summary>
    public long MaxStateSize { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// The serialized size, in bytes, above which a recovery point's state spills: it is serialized straight into the
    /// stream store (the store's database or the storage folder) instead of into one array in memory, and read back the
    /// same way when the run resumes. Smaller states are saved in the checkpoint as before. Only when the engine keeps
    /// streams (its store does, or <c>UseStorageFolder</c>); null never spills. Default 1 MiB.
    /// </summary>
    public long? StateSpillThreshold { get; set; } = 1024 * 1024;

    /// <summary>How many of its newest checkpoints a run keeps. Default 1.</summary>
    public int CheckpointsToKeep { get; set; } = 1;

    /// <summary>How states are serialized. Default <see cref="JsonStateSerializer"/>.</summary>
    public StateSerializer Serializer { get; set; } = new JsonStateSerializer();

    /// <summary>
    /// How states, inputs, results and streams are compressed before they are stored. Turning it on or off leaves what
    /// is stored readable: compressed data says so in its envelope, plain data has none. Default <see cref="StateCompression.None"/>.
    /// </summary>
    public StateCompression StateCompression { get; set; } = StateCompression.None;

    /// <summary>Compression and encryption as built from <see cref="StateCompression"/> and the builder's key provider.</summary>
    internal CheckpointProtection Protection { get; set; } = CheckpointProtection.None;

    /// <summary>Watches attempts' boundaries and may crash them there (the crash kit of Cairn.Testing); null in production.</summary>
    internal IAttemptObserver? AttemptObserver { get; set; }

    /// <summary>A copy that later changes to this instance do not reach; every property is a value or immutable, except
    /// <see cref="Serializer"/>, which is shared as it is a stateless strategy.</summary>
    /// <summary>How often the outbox dispatcher looks for messages when nothing woke it. Default 1 second.</summary>
    public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a dispatcher holds the messages it claimed before another may deliver them again. Default 30 seconds.</summary>
    public TimeSpan OutboxClaimDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many messages a dispatcher claims at once (one per run at most). Default 256: each claim and each
    /// acknowledgement is a store write, so under load small batches let messages queue (measured with the purchase
    /// workload at concurrency 64: 32 gave a delivery latency p50 of 2.3 s, 256 gave 0.2 s, at the same runs/s).
    /// </summary>
    public int OutboxBatchSize { get; set; } = 256;

    /// <summary>
    /// How failed deliveries are retried: the waits between them, and after <see cref="RetryPolicy.MaxRetries"/> retries
    /// (or a permanent error) the message is dead-lettered. Default: 9 retries from 1 second, doubling, at most 5 minutes apart.
    /// </summary>
    public RetryPolicy OutboxRetryPolicy { get; set; } = new() { MaxRetries = 9, Interval = TimeSpan.FromSeconds(1), MaxInterval = TimeSpan.FromMinutes(5) };

    internal CairnOptions Snapshot() => (CairnOptions)MemberwiseClone();

    internal void Validate()
    {
        if (FindProblems(string.Empty, '.').FirstOrDefault() is { } problem)
        {
            throw new ArgumentException($"Invalid Cairn options: {problem}.");
        }
    }

    /// <summary>Every invalid option, each message starting with the option's key.</summary>
    /// <param name="prefix">Put before each key: empty for the builder, the configuration section's path and a colon for a binding.</param>
    /// <param name="separator">Between a key and a nested key: '.' for the builder, ':' for configuration.</param>
    internal IEnumerable<string> FindProblems(string prefix, char separator)
    {
        if (NodeName is not null && string.IsNullOrWhiteSpace(NodeName))
        {
            yield return $"{prefix}NodeName must not be blank";
        }

        if (MaxConcurrentRuns < 1)
        {
            yield return $"{prefix}MaxConcurrentRuns is {MaxConcurrentRuns}; it must be 1 or more";
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            yield return $"{prefix}PollInterval is {PollInterval}; it must be positive";
        }

        if (ChildRunCheckInterval <= TimeSpan.Zero)
        {
            yield return $"{prefix}ChildRunCheckInterval is {ChildRunCheckInterval}; it must be positive";
        }

        if (LeaseDuration < TimeSpan.FromSeconds(1))
        {
            yield return $"{prefix}LeaseDuration is {LeaseDuration}; it must be at least 1 second";
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            yield return $"{prefix}ShutdownTimeout is {ShutdownTimeout}; it must not be negative";
        }

        if (RetentionPeriod is { } retention && retention <= TimeSpan.Zero)
        {
            yield return $"{prefix}RetentionPeriod is {retention}; it must be positive or null";
        }

        if (OrphanStreamAge < TimeSpan.FromMinutes(1))
        {
            yield return $"{prefix}OrphanStreamAge is {OrphanStreamAge}; it must be at least 1 minute";
        }

        if (PurgeInterval <= TimeSpan.Zero)
        {
            yield return $"{prefix}PurgeInterval is {PurgeInterval}; it must be positive";
        }

        if (MaxStateSize < 1)
        {
            yield return $"{prefix}MaxStateSize is {MaxStateSize}; it must be positive";
        }

        if (StateSpillThreshold is < 1024)
        {
            yield return $"{prefix}StateSpillThreshold is {StateSpillThreshold}; it must be at least 1024 bytes (or null, never to spill)";
        }

        if (CheckpointsToKeep < 1)
        {
            yield return $"{prefix}CheckpointsToKeep is {CheckpointsToKeep}; it must be 1 or more";
        }

        if (Serializer is null)
        {
            yield return $"{prefix}Serializer must be set";
        }

        if (!Enum.IsDefined(StateCompression))
        {
            yield return $"{prefix}StateCompression is {(int)StateCompression}; it must be one of {string.Join(", ", Enum.GetNames<StateCompression>())}";
        }

        if (OutboxPollInterval <= TimeSpan.Zero)
        {
            yield return $"{prefix}OutboxPollInterval is {OutboxPollInterval}; it must be positive";
        }

        if (OutboxClaimDuration < TimeSpan.FromSeconds(1))
        {
            yield return $"{prefix}OutboxClaimDuration is {OutboxClaimDuration}; it must be at least 1 second";
        }

        if (OutboxBatchSize < 1)
        {
            yield return $"{prefix}OutboxBatchSize is {OutboxBatchSize}; it must be 1 or more";
        }

        if (OutboxRetryPolicy is null)
        {
            yield return $"{prefix}OutboxRetryPolicy must be set";
        }
        else if (OutboxRetryPolicy.FindProblem() is { } outboxProblem)
        {
            yield return $"{prefix}OutboxRetryPolicy{separator}{outboxProblem}";
        }

        if (DefaultRetryPolicy is null)
        {
            yield return $"{prefix}DefaultRetryPolicy must be set";
        }
        else if (DefaultRetryPolicy.FindProblem() is { } problem)
        {
            yield return $"{prefix}DefaultRetryPolicy{separator}{problem}";
        }
    }
}

/// <summary>When runs found interrupted (their owner died) resume.</summary>
public enum InterruptedRunResume
{
    /// <summary>At once.</summary>
    Immediately = 0,

    /// <summary>After the first retry interval of <see cref="CairnOptions.DefaultRetryPolicy"/> (one wait for all the runs found).</summary>
    AfterRetryInterval = 1,
}
