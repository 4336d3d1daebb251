using Cairn.Serialization;

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

    /// <summary>Completed, failed and cancelled runs older than this are purged on a schedule; null turns the schedule off. Default 7 days.</summary>
    public TimeSpan? RetentionPeriod { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the scheduled purge runs. Default 1 hour.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The largest serialized state a recovery point may save, in bytes. Default 256 MiB.</summary>
    public long MaxStateSize { get; set; } = 256L * 1024 * 1024;

    /// <summary>How many of its newest checkpoints a run keeps. Default 1.</summary>
    public int CheckpointsToKeep { get; set; } = 1;

    /// <summary>How states are serialized. Default <see cref="JsonStateSerializer"/>.</summary>
    public StateSerializer Serializer { get; set; } = new JsonStateSerializer();

    internal void Validate()
    {
        static void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new ArgumentException($"Invalid Cairn options: {message}.");
            }
        }

        Require(NodeName is null || !string.IsNullOrWhiteSpace(NodeName), "NodeName must not be blank");
        Require(MaxConcurrentRuns >= 1, $"MaxConcurrentRuns is {MaxConcurrentRuns}; it must be 1 or more");
        Require(PollInterval > TimeSpan.Zero, $"PollInterval is {PollInterval}; it must be positive");
        Require(ChildRunCheckInterval > TimeSpan.Zero, $"ChildRunCheckInterval is {ChildRunCheckInterval}; it must be positive");
        Require(LeaseDuration >= TimeSpan.FromSeconds(1), $"LeaseDuration is {LeaseDuration}; it must be at least 1 second");
        Require(ShutdownTimeout >= TimeSpan.Zero, $"ShutdownTimeout is {ShutdownTimeout}; it must not be negative");
        Require(RetentionPeriod is null || RetentionPeriod > TimeSpan.Zero, $"RetentionPeriod is {RetentionPeriod}; it must be positive or null");
        Require(PurgeInterval > TimeSpan.Zero, $"PurgeInterval is {PurgeInterval}; it must be positive");
        Require(MaxStateSize >= 1, $"MaxStateSize is {MaxStateSize}; it must be positive");
        Require(CheckpointsToKeep >= 1, $"CheckpointsToKeep is {CheckpointsToKeep}; it must be 1 or more");
        Require(Serializer is not null, "Serializer must be set");
        Require(DefaultRetryPolicy is not null, "DefaultRetryPolicy must be set");
        DefaultRetryPolicy!.Validate("CairnOptions.DefaultRetryPolicy");
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
