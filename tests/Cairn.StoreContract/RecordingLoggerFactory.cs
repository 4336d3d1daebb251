using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Cairn.StoreContract;

/// <summary>A logger factory that records every entry with its category, event ID and structured parameters.</summary>
public sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<LogRecord> _records = new();

    /// <summary>The entries logged so far, in order.</summary>
    public IReadOnlyList<LogRecord> Records => [.. _records];

    public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, _records);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Recorder(string category, ConcurrentQueue<LogRecord> records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var parameters = state is IReadOnlyList<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(pair => pair.Key, pair => pair.Value)
                : [];
            records.Enqueue(new LogRecord(category, logLevel, eventId.Id, formatter(state, exception), parameters));
        }
    }
}

/// <summary>One recorded log entry.</summary>
/// <param name="Category">The logger's category.</param>
/// <param name="Level">The entry's level.</param>
/// <param name="EventId">The entry's event ID.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Parameters">The structured parameters, with the template under <c>{OriginalFormat}</c>.</param>
public sealed record LogRecord(string Category, LogLevel Level, int EventId, string Message, IReadOnlyDictionary<string, object?> Parameters);
