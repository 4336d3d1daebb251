using Cairn.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit.Abstractions;

namespace Cairn.Tests.Support;

/// <summary>
/// Writes the engine's log to the test's output, so a failing test shows what the engine did, and to a collector when
/// the test reads the records back.
/// </summary>
public sealed class TestLoggerFactory(ITestOutputHelper output, FakeLogCollector? collector = null) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new TestLogger(output, categoryName, collector is null ? null : new FakeLogger(collector, categoryName));

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class TestLogger(ITestOutputHelper output, string category, FakeLogger? records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            records?.Log(logLevel, eventId, state, exception, formatter);
            try
            {
                output.WriteLine($"{logLevel} {category} [{eventId.Id}] {formatter(state, exception)}{(exception is null ? "" : $" {exception.GetType().Name}: {exception.Message}")}");
            }
            catch (InvalidOperationException)
            {
                // The test has ended; xUnit refuses output from work that outlived it.
            }
        }
    }
}
