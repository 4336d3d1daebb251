namespace Cairn.Runs;

/// <summary>
/// When a failed attempt is retried. Captured in the run when it is first started, so changing a flow's policy
/// later does not change runs already under way.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>The engine's default: 3 retries, 10 s apart doubling to at most 5 min, within 3 days.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>No retries: the first failure fails the run.</summary>
    public static RetryPolicy None { get; } = new() { MaxRetries = 0 };

    /// <summary>How many times a failed run is retried automatically. Default 3.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The wait before the first retry. Default 10 seconds.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Each retry waits this many times longer than the one before. Default 2; 1 keeps the interval fixed.</summary>
    public double BackoffFactor { get; init; } = 2.0;

    /// <summary>The longest wait between two attempts. Default 5 minutes.</summary>
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>No retry is scheduled later than this after the run was first started. Default 3 days.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromDays(3);

    /// <summary>
    /// Full names of exception types that fail a run at once, without a retry (a type or any type derived from it).
    /// Default empty.
    /// </summary>
    public IReadOnlyList<string> PermanentExceptions { get; init; } = [];

    /// <summary>Returns a copy that treats <typeparamref name="TException"/> as permanent.</summary>
    public RetryPolicy WithPermanent<TException>() where TException : Exception =>
        this with { PermanentExceptions = [.. PermanentExceptions, typeof(TException).FullName!] };

    /// <summary>The wait before retry number <paramref name="retry"/> (1 for the first retry).</summary>
    public TimeSpan DelayBefore(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var seconds = Interval.TotalSeconds * Math.Pow(BackoffFactor, retry - 1);
        return seconds >= MaxInterval.TotalSeconds ? MaxInterval : TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Whether <paramref name="exception"/> is of a type listed in <see cref="PermanentExceptions"/>.</summary>
    public bool IsPermanent(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (var type = exception.GetType(); type is not null; type = type.BaseType)
        {
            if (PermanentExceptions.Contains(type.FullName))
            {
                return true;
            }
        }

        return false;
    }

    internal void Validate(string owner)
    {
        if (FindProblem() is { } problem)
        {
            throw new ArgumentException($"The retry policy of {owner} is invalid: {problem}.");
        }
    }

    internal string? FindProblem()
    {
        string? problem = null;
        if (MaxRetries < 0)
        {
            problem = $"MaxRetries is {MaxRetries}; it must be 0 or more";
        }
        else if (Interval < TimeSpan.Zero)
        {
            problem = $"Interval is {Interval}; it must not be negative";
        }
        else if (BackoffFactor < 1)
        {
            problem = $"BackoffFactor is {BackoffFactor}; it must be 1 or more";
        }
        else if (MaxInterval < Interval)
        {
            problem = $"MaxInterval ({MaxInterval}) is shorter than Interval ({Interval})";
        }
        else if (Window <= TimeSpan.Zero)
        {
            problem = $"Window is {Window}; it must be positive";
        }

        return problem;
    }
}
