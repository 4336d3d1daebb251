using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Cairn.Serialization.Protection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn;

/// <summary>Configures and builds a <see cref="CairnEngine"/>.</summary>
public sealed partial class CairnEngineBuilder
{
    private readonly List<FlowDefinition> _flows = [];
    private readonly Dictionary<string, IOutboxPublisher> _publishers = new(StringComparer.Ordinal);
    private Func<StoreContext, RunStore>? _storeFactory;
    private Func<StoreContext, IStreamStore>? _streamStoreFactory;
    private ICheckpointKeyProvider? _keys;
    private bool _ownsStore;
    private bool _built;
    private CairnMetrics _metrics = CairnMetrics.Shared;

    /// <summary>
    /// The engine's options; change them here or with <see cref="Configure"/>. <see cref="Build"/> takes a copy, so changes
    /// made afterwards do not reach the engine.
    /// </summary>
    public CairnOptions Options { get; private set; } = new();

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

    /// <summary>
    /// Uses a store the engine creates from options, and disposes with itself: the form of a store package's
    /// <c>UseXxx(…, configure)</c> extension.
    /// </summary>
    /// <param name="options">The store's options as the package sets them, from the engine's clock and logging.</param>
    /// <param name="configure">The caller's changes to them, if any.</param>
    /// <param name="loggerCategory">The category of the store's logger, for example <c>Cairn.Store.Sqlite</c>.</param>
    /// <param name="create">Creates the store from its options and logger.</param>
    public CairnEngineBuilder UseStore<TOptions>(
        Func<StoreContext, TOptions> options, Action<TOptions>? configure, string loggerCategory, Func<TOptions, ILogger, RunStore> create)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(loggerCategory);
        ArgumentNullException.ThrowIfNull(create);
        return UseStore(context =>
        {
            var storeOptions = options(context);
            configure?.Invoke(storeOptions);
            return create(storeOptions, context.LoggerFactory.CreateLogger(loggerCategory));
        });
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

    /// <summary>
    /// Registers the publisher that delivers the outbox messages of <paramref name="destination"/>
    /// (<see cref="StageOutbox.Add{T}(string, T)"/>); <c>"*"</c> registers the publisher of every destination without one
    /// of its own. The engine's dispatcher runs when at least one publisher is registered.
    /// </summary>
    /// <exception cref="InvalidOperationException">The destination already has a publisher.</exception>
    public CairnEngineBuilder AddOutboxPublisher(string destination, IOutboxPublisher publisher)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        ArgumentNullException.ThrowIfNull(publisher);
        if (!_publishers.TryAdd(destination, publisher))
        {
            throw new InvalidOperationException($"The outbox destination '{destination}' already has a publisher.");
        }

        return this;
    }

    /// <summary>Registers a delegate that delivers the outbox messages of <paramref name="destination"/> (see <see cref="AddOutboxPublisher(string, IOutboxPublisher)"/>).</summary>
    public CairnEngineBuilder AddOutboxPublisher(string destination, Func<OutboxMessage, CancellationToken, Task> publish)
    {
        ArgumentNullException.ThrowIfNull(publish);
        return AddOutboxPublisher(destination, new DelegateOutboxPublisher(publish));
    }

    /// <summary>
    /// Keeps runs' named streams (<see cref="Flows.StageContext{TState}.Streams"/>) in <paramref name="streams"/> instead
    /// of in the run store's own database: a storage folder shared by the nodes, or another store's.
    /// </summary>
    public CairnEngineBuilder UseStreamStore(IStreamStore streams)
    {
        ArgumentNullException.ThrowIfNull(streams);
        return UseStreamStore(_ => streams);
    }

    /// <summary>
    /// Keeps runs' named streams (<see cref="Flows.StageContext{TState}.Streams"/>) as files in <paramref name="path"/>
    /// (<see cref="FolderStreamStore"/>), a folder several nodes may share, instead of in the run store's database. The
    /// folder is created by <see cref="Build"/> when it does not exist (as the SQLite store creates its file).
    /// </summary>
    /// <exception cref="InvalidOperationException">From <see cref="Build"/>: the folder does not exist and cannot be created.</exception>
    public CairnEngineBuilder UseStorageFolder(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return UseStreamStore(context =>
        {
            var folder = new FolderStreamStore(path, context.TimeProvider);
            try
            {
                Directory.CreateDirectory(folder.FolderPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"The storage folder '{folder.FolderPath}' does not exist and cannot be created: {ex.Message}", ex);
            }

            return folder;
        });
    }

    /// <summary>
    /// Keeps runs' named streams (<see cref="Flows.StageContext{TState}.Streams"/>) in a stream store the factory makes
    /// when the engine is built, instead of in the run store's own database.
    /// </summary>
    public CairnEngineBuilder UseStreamStore(Func<StoreContext, IStreamStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _streamStoreFactory = factory;
        return this;
    }

    /// <summary>
    /// Encrypts states, inputs, results and streams at rest with AES-256-GCM under the keys of <paramref name="keys"/>:
    /// new data under its current key, and what was stored reads with the key its envelope names (docs/protection.md).
    /// </summary>
    public CairnEngineBuilder UseEncryption(ICheckpointKeyProvider keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
        return this;
    }

    /// <summary>Uses another clock (tests use a fake one).</summary>
    public CairnEngineBuilder UseTimeProvider(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        TimeProvider = timeProvider;
        return this;
    }

    /// <summary>
    /// Validates the options and builds the engine. It starts with its first run or <see cref="CairnEngine.StartAsync"/>.
    /// The engine works on a snapshot of the options, flows, clock and logger factory: nothing done to this builder or its
    /// <see cref="Options"/> afterwards reaches it.
    /// </summary>
    /// <remarks>
    /// A builder builds one engine: a second call throws, because two engines from one builder would share its store (the
    /// instance given to <see cref="UseStore(RunStore)"/>, or the database a factory opens) and its node name. Create
    /// another builder for another engine. A call that throws because of an invalid option or a missing store may be
    /// repeated once the builder is fixed.
    /// </remarks>
    /// <exception cref="InvalidOperationException">No store was configured, two flows share a name, or this builder has already built an engine.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public CairnEngine Build()
    {
        if (_built)
        {
            throw new InvalidOperationException(
                "This builder has already built an engine; a second engine would share its store and node name. Create another builder with CairnEngine.CreateBuilder().");
        }

        var options = Options.Snapshot();
        options.Validate();
        ValidateSchedules();
        if (_storeFactory is null)
        {
            throw new InvalidOperationException("No store is configured: call UseSqlite(\"cairn.db\"), UseInMemoryStore() or UseStore(...) before Build().");
        }

        _built = true;
        var context = new StoreContext(TimeProvider, LoggerFactory);
        var store = _storeFactory(context);
        var streams = _streamStoreFactory?.Invoke(context) ?? store as IStreamStore;
        options.Protection = new CheckpointProtection(options.StateCompression, _keys);
        if (options.Protection.IsOn && streams is not null)
        {
            streams = new ProtectedStreamStore(streams, options.Protection);
        }

        return new CairnEngine(options, store, _ownsStore, [.. _flows], LoggerFactory, TimeProvider, _metrics, streams)
        {
            Publishers = new Dictionary<string, IOutboxPublisher>(_publishers, StringComparer.Ordinal),
            CodeSchedules = [.. _schedules.Select(schedule => schedule(options.Serializer))],
        };
    }

    /// <summary>Records the engine's metrics on <c>meterFactory.Create("Cairn")</c> instead of the static meter.</summary>
    internal CairnEngineBuilder UseMeterFactory(IMeterFactory meterFactory)
    {
        _metrics = CairnMetrics.Create(meterFactory);
        return this;
    }

    /// <summary>Starts from a copy of <paramref name="options"/> (bound from configuration) instead of the defaults.</summary>
    internal CairnEngineBuilder UseOptions(CairnOptions options)
    {
        Options = options.Snapshot();
        return this;
    }

    /// <summary>Uses an <see cref="InMemoryRunStore"/>: nothing survives the process. For tests and experiments.</summary>
    public CairnEngineBuilder UseInMemoryStore() => UseStore(context => new InMemoryRunStore(context.TimeProvider));
}

/// <summary>What a store factory receives from the engine builder.</summary>
/// <param name="TimeProvider">The engine's clock.</param>
/// <param name="LoggerFactory">The engine's logger factory.</param>
public sealed record StoreContext(TimeProvider TimeProvider, ILoggerFactory LoggerFactory);
