namespace Cairn.Runs;

/// <summary>Settings of an operator API built from a store alone (<see cref="RunOperator.Create"/>).</summary>
public sealed class RunOperatorOptions
{
    /// <summary>The clock for purge cut-offs and waits. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>How often <see cref="RunOperator.WaitForRunAsync"/> reads a run it waits for. Default 1 second.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The largest edited state accepted, in bytes. Default 256 MiB, as <see cref="CairnOptions.MaxStateSize"/>.</summary>
    public long MaxStateSize { get; set; } = 256L * 1024 * 1024;

    /// <summary>How states are read, to check an edited state against a known flow. Default <see cref="JsonStateSerializer"/>.</summary>
    public StateSerializer Serializer { get; set; } = new JsonStateSerializer();

    /// <summary>How the engine compresses and encrypts states: its operator reads and writes them the same way.</summary>
    internal Serialization.Protection.CheckpointProtection? Protection { get; set; }

    /// <summary>The engine's stream store, where spilled states are read from; default the run store when it is one.</summary>
    internal IStreamStore? Streams { get; set; }

    internal void Validate()
    {
        if (TimeProvider is null)
        {
            throw new ArgumentException("RunOperatorOptions.TimeProvider must be set.");
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"RunOperatorOptions.PollInterval is {PollInterval}; it must be positive.");
        }

        if (MaxStateSize < 1)
        {
            throw new ArgumentException($"RunOperatorOptions.MaxStateSize is {MaxStateSize}; it must be positive.");
        }

        if (Serializer is null)
        {
            throw new ArgumentException("RunOperatorOptions.Serializer must be set.");
        }
    }
}
