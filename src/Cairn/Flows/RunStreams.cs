using System.IO.Pipelines;
using Cairn.Execution;

namespace Cairn.Flows;

/// <summary>
/// A run's named streams (<see cref="StageContext{TState}.Streams"/>): files and result sets too large for the state.
/// A stream put here is written to the stream store at once, by streaming (never whole in memory), and saved with the
/// run's next recovery point; later stages open it by name — also after a crash, on another node, or after a re-run from
/// an earlier point, which sees the streams as they were at that point. A stream put but not yet saved is lost on a
/// crash, as the state is. Content is verified (length and SHA-256) as it is read; identical content is stored once.
/// </summary>
/// <remarks>
/// Stages inside parallel branches and compensations may open streams but not put or delete them. Names starting with
/// '$' are reserved for Cairn.
/// </remarks>
public sealed class RunStreams
{
    private readonly AttemptStreams _streams;
    private readonly string _stage;
    private readonly string? _readOnlyBecause;

    internal RunStreams(AttemptStreams streams, string stage, string? readOnlyBecause)
    {
        _streams = streams;
        _stage = stage;
        _readOnlyBecause = readOnlyBecause;
    }

    /// <summary>The names of the run's streams, in ordinal order.</summary>
    public IReadOnlyCollection<string> Names => _streams.Names;

    /// <summary>Whether the run has a stream of that name.</summary>
    public bool Contains(string name) => _streams.Find(name) is not null;

    /// <summary>The content behind a stream's name (SHA-256 and length), or null when the run has no stream of that name.</summary>
    public StoredStream? Find(string name) => _streams.Find(name);

    /// <summary>
    /// Writes <paramref name="content"/> (from its position to its end) to the stream store under <paramref name="name"/>,
    /// replacing a stream of that name; the next recovery point saves it.
    /// </summary>
    /// <returns>The stored content: its SHA-256 and length.</returns>
    /// <exception cref="StoreUnavailableException">The stream store cannot be written (down, full, read-only).</exception>
    public async Task<StoredStream> PutAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        CheckWritable(name);
        ArgumentNullException.ThrowIfNull(content);
        var stored = await _streams.Store.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        _streams.Set(name, stored);
        return stored;
    }

    /// <summary>
    /// Starts a stream the stage writes itself: what it writes to the returned stream goes to the stream store as it is
    /// written, and becomes the stream <paramref name="name"/> when the returned stream is disposed (dispose it with
    /// <c>await using</c>). A write fails once the store has failed.
    /// </summary>
    public Stream Create(string name, CancellationToken cancellationToken = default)
    {
        CheckWritable(name);
        var store = _streams.Store;
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4 * 1024 * 1024, resumeWriterThreshold: 2 * 1024 * 1024, useSynchronizationContext: false));
        var writing = Task.Run(async () =>
        {
            var reader = pipe.Reader.AsStream();
            await using (reader.ConfigureAwait(false))
            {
                return await store.WriteAsync(reader, cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
        return new WritingStream(pipe.Writer, writing, stored => _streams.Set(name, stored));
    }

    /// <summary>Opens a stream of the run for reading from its start; its content is checked as it is read.</summary>
    /// <exception cref="StreamNotFoundException">The run has no stream of that name, or its content is missing from the store.</exception>
    /// <exception cref="StreamCorruptedException">Raised by the returned stream: the content read does not match what was saved.</exception>
    public async Task<Stream> OpenAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var stored = _streams.Find(name) ?? throw new StreamNotFoundException(
            $"Stage '{_stage}' of run {_streams.Run} opened stream '{name}', which the run does not have; it has " +
            (_streams.Names is { Count: > 0 } names ? string.Join(", ", names.Select(n => $"'{n}'")) : "none") + ".");
        var what = $"Stream '{name}' of run {_streams.Run} ({stored}{(_streams.SavedAt is { } point ? $", saved at recovery point '{point}'" : "")})";
        Stream inner;
        try
        {
            inner = await _streams.Store.OpenReadAsync(stored, cancellationToken).ConfigureAwait(false);
        }
        catch (StreamNotFoundException ex)
        {
            throw new StreamNotFoundException($"{what} is missing from the stream store: {ex.Message}");
        }

        return VerifiedReadStream.Over(inner, stored, what);
    }

    /// <summary>Removes a stream from the run: the next recovery point no longer keeps it. Returns whether the run had it.</summary>
    public bool Delete(string name)
    {
        CheckWritable(name);
        return _streams.Remove(name);
    }

    private void CheckWritable(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.StartsWith('$'))
        {
            throw new ArgumentException($"Stream name '{name}' is reserved: names starting with '$' are Cairn's own (a spilled state is '$state').", nameof(name));
        }

        if (_readOnlyBecause is not null)
        {
            throw new InvalidOperationException($"Stage '{_stage}' cannot change stream '{name}': {_readOnlyBecause}.");
        }
    }

    /// <summary>The stream a stage writes: a pipe into the store's write, which becomes the named stream once complete.</summary>
    private sealed class WritingStream(PipeWriter writer, Task<StoredStream> writing, Action<StoredStream> done) : WriteOnlyStream
    {
        private readonly Stream _writer = writer.AsStream();
        private bool _finished;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_finished, this);
            if (writing.IsFaulted || writing.IsCanceled)
            {
                await writing.ConfigureAwait(false); // Throws the store's error.
            }

            await _writer.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_finished)
            {
                FinishAsync().GetAwaiter().GetResult();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_finished)
            {
                await FinishAsync().ConfigureAwait(false);
            }

            await base.DisposeAsync().ConfigureAwait(false);
        }

        /// <summary>Ends the content and waits for the store to have it whole; then it becomes the named stream.</summary>
        private async Task FinishAsync()
        {
            _finished = true;
            await writer.CompleteAsync().ConfigureAwait(false);
            done(await writing.ConfigureAwait(false));
        }
    }
}
