using Cairn.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn;

/// <summary>Configures and builds a <see cref="CairnEngine"/>.</summary>
public sealed class CairnEngineBuilder
{
    private readonly List<FlowDefinition> _flows = [];
    private Func<StoreContext, RunStore>? _storeFactory;
    private bool _ownsStore;

    /// <summary>The engine's options; change them here or with <see cref="Configure"/>.</summary>
    public CairnOptions Options { get; } = new();

    /// <summary>The logger factory. Default: no logging.</summary>
    public ILoggerFactory LoggerFactory { get; private set; } = NullLoggerFactory.Instance;

    /// <summary>The clock of the engine and of the stores it creates. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; private set; } = TimeProvider.System;

    /// <summary>Uses a store created by the caller; the caller disposes it.</summary>
    public CairnEngineBuilder UseStore(RunStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _storeFactory = _ => store;
        _ownsStore = false;
        return this;
    }

    /// <summary>Uses a store the engine creates with the engine's clock and logging, and disposes with itself.</summary>
    public CairnEngineBuilder UseStore(Func<StoreContext, RunStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _storeFactory = factory;
        _ownsStore = true;
        return this;
    }

    /// <summary>Registers a flow the engine can execute, including runs of it left by earlier processes.</summary>
    public CairnEngineBuilder AddFlow(FlowDefinition flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        _flows.Add(flow);
        return this;
    }

    /// <summary>Changes the options.</summary>
    public CairnEngineBuilder Configure(Action<CairnOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Options);
        return this;
    }

    /// <summary>Logs through <paramref name="loggerFactory"/>.</summary>
    public CairnEngineBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        LoggerFactory = loggerFactory;
        return this;
    }

    /// <summary>Uses another clock (tests use a fake one).</summary>
    public CairnEngineBuilder UseTimeProvider(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        TimeProvider = timeProvider;
        return this;
    }

    /// <summary>Validates the options and builds the engine. It starts with its first run or <see cref="CairnEngine.StartAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">No store was configured, or two flows share a name.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public CairnEngine Build()
    {
        Options.Validate();
        if (_storeFactory is null)
        {
            throw new InvalidOperationException("No store is configured: call UseSqlite(\"cairn.db\"), UseInMemoryStore() or UseStore(...) before Build().");
        }

        var store = _storeFactory(new StoreContext(TimeProvider, LoggerFactory));
        return new CairnEngine(Options, store, _ownsStore, _flows, LoggerFactory, TimeProvider);
    }

    /// <summary>Uses an <see cref="InMemoryRunStore"/>: nothing survives the process. For tests and experiments.</summary>
    public CairnEngineBuilder UseInMemoryStore() => UseStore(context => new InMemoryRunStore(context.TimeProvider));
}

/// <summary>What a store factory receives from the engine builder.</summary>
/// <param name="TimeProvider">The engine's clock.</param>
/// <param name="LoggerFactory">The engine's logger factory.</param>
public sealed record StoreContext(TimeProvider TimeProvider, ILoggerFactory LoggerFactory);
