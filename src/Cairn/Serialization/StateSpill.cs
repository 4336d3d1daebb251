using System.IO.Pipelines;

namespace Cairn.Serialization;

/// <summary>
/// Large states spill (<see cref="CairnOptions.StateSpillThreshold"/>): a recovery point's state is serialized into a
/// buffer up to the threshold and, past it, straight into the stream store through a pipe, never into one array; the
/// checkpoint then keeps an empty state and the content under the reserved stream name <see cref="StreamName"/>. A
/// resumed run deserializes it from the store as it reads, verified by length and SHA-256.
/// </summary>
internal static class StateSpill
{
    /// <summary>The name a checkpoint's stream manifest gives a spilled state; stage streams may not start with '$'.</summary>
    public const string StreamName = "$state";

    /// <summary>
    /// The name of a spilled state that holds one value larger than <see cref="WholeValueSize"/> (a large byte array, say):
    /// it is read back into one array. System.Text.Json buffers a value whole either way, and reading it as a stream makes
    /// it double its buffer up to the value's size; one array of the content's length costs less.
    /// </summary>
    public const string WholeStreamName = "$state.whole";

    /// <summary>A single write of the serializer this large means the state holds a value that large.</summary>
    public const int WholeValueSize = 1024 * 1024;

    /// <summary>The state as a checkpoint saves it: the bytes, or empty bytes and the spilled content.</summary>
    public readonly record struct Saved(byte[] Bytes, StoredStream? Spilled, bool Whole = false);

    /// <summary>The spilled content of a checkpoint, or null when its state is in the checkpoint.</summary>
    public static StoredStream? Find(Checkpoint checkpoint) => Find(checkpoint, out _);

    /// <summary>The spilled content of a checkpoint and whether it is read back whole, or null when its state is in the checkpoint.</summary>
    public static StoredStream? Find(Checkpoint checkpoint, out bool whole)
    {
        whole = false;
        if (!checkpoint.State.IsEmpty)
        {
            return null;
        }

        if (checkpoint.Streams.TryGetValue(StreamName, out var spilled))
        {
            return spilled;
        }

        whole = checkpoint.Streams.TryGetValue(WholeStreamName, out spilled);
        return spilled;
    }

    /// <summary>A checkpoint's streams without the spilled state: the streams of the run's stages ('$' names are Cairn's).</summary>
    public static IReadOnlyDictionary<string, StoredStream> StageStreams(IReadOnlyDictionary<string, StoredStream> streams) =>
        streams.Keys.Any(name => name.StartsWith('$'))
            ? System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(streams.Where(s => !s.Key.StartsWith('$')), StringComparer.Ordinal)
            : streams;

    /// <summary>The streams a checkpoint saves: the stages' and, when it spilled, the state.</summary>
    public static IReadOnlyDictionary<string, StoredStream> WithState(IReadOnlyDictionary<string, StoredStream> streams, Saved saved)
    {
        if (saved.Spilled is not { } spilled)
        {
            return streams;
        }

        var all = new Dictionary<string, StoredStream>(streams, StringComparer.Ordinal) { [saved.Whole ? WholeStreamName : StreamName] = spilled };
        return System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(all, StringComparer.Ordinal);
    }

    /// <summary>
    /// Serializes <paramref name="value"/>: into the returned bytes when it fits under <paramref name="threshold"/>,
    /// else into <paramref name="streams"/> as it is written. Failures are worded as <see cref="StateCodec.Serialize{T}"/> words them.
    /// </summary>
    public static async Task<Saved> SerializeAsync<T>(
        StateCodec codec, IStreamStore streams, long threshold, T value, string what, string consequence, CancellationToken cancellationToken)
    {
        var sink = new SpillingStream(streams, threshold, length => codec.CheckSize(length, what, consequence), cancellationToken);
        await using (sink.ConfigureAwait(false))
        {
            try
            {
                await codec.Serializer.SerializeAsync(sink, value, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or StateSerializationException or StoreUnavailableException))
            {
                throw codec.SerializationFailure<T>(ex, what, consequence);
            }

            // A state that stayed under the threshold is stored in the checkpoint, compressed and encrypted as the codec
            // stores any state; one that spilled went through the stream store, which protects what it stores.
            var saved = await sink.FinishAsync().ConfigureAwait(false);
            return saved.Spilled is null ? saved with { Bytes = codec.Protection.Protect(saved.Bytes) } : saved;
        }
    }

    /// <summary>Deserializes spilled content from <paramref name="streams"/> as it reads it, verified to its end.</summary>
    /// <exception cref="StreamNotFoundException">The content is missing from the store.</exception>
    /// <exception cref="StreamCorruptedException">The content does not match what the checkpoint recorded.</exception>
    public static async Task<T> DeserializeAsync<T>(
        StateCodec codec, IStreamStore streams, StoredStream spilled, string what, string hint, CancellationToken cancellationToken)
    {
        var source = await OpenAsync(streams, spilled, what, cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            T value;
            try
            {
                value = await codec.Serializer.DeserializeAsync<T>(source, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or StreamCorruptedException or StoreUnavailableException))
            {
                // Damaged content fails to deserialize before its end is reached: read on, so that it is reported as damaged.
                await source.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                throw codec.DeserializationFailure<T>(ex, $"The spilled state of {what}", hint, " It is kept unchanged.");
            }

            // The content is verified once read to its end; a serializer may stop at the end of its value.
            await source.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            return value;
        }
    }

    /// <summary>Reads spilled content into memory, verified: for the paths that need the bytes (an upgrade hook, compensation).</summary>
    public static async Task<byte[]> ReadAllAsync(IStreamStore streams, StoredStream spilled, string what, CancellationToken cancellationToken)
    {
        var source = await OpenAsync(streams, spilled, what, cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            // Sized for the stored length: one array when the content is stored as it is, no growing copies.
            using var copy = new MemoryStream((int)Math.Min(spilled.Length, Array.MaxLength));
            await source.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            return copy.Length == copy.Capacity ? copy.GetBuffer() : copy.ToArray();
        }
    }

    private static async Task<Stream> OpenAsync(IStreamStore streams, StoredStream spilled, string what, CancellationToken cancellationToken)
    {
        var where = $"The spilled state of {what} ({spilled})";
        try
        {
            return VerifiedReadStream.Over(await streams.OpenReadAsync(spilled, cancellationToken).ConfigureAwait(false), spilled, where);
        }
        catch (StreamNotFoundException ex)
        {
            throw new StreamNotFoundException($"{where} is missing from the stream store: {ex.Message}");
        }
    }

    /// <summary>Where a state is serialized to: a buffer until it passes the threshold, then a pipe into the stream store.</summary>
    private sealed class SpillingStream(IStreamStore store, long threshold, Action<long> checkSize, CancellationToken uploadCancellation) : WriteOnlyStream
    {
        private MemoryStream? _head = new();
        private Pipe? _pipe;
        private Task<StoredStream>? _upload;
        private long _length;
        private int _largestWrite;
        private bool _finished;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            _largestWrite = Math.Max(_largestWrite, buffer.Length);
            checkSize(_length);
            if (_head is { } head)
            {
                if (head.Length + buffer.Length <= threshold)
                {
                    head.Write(buffer.Span);
                    return;
                }

                // Past the threshold: from here on the state goes to the store as it is written.
                _pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4 * 1024 * 1024, resumeWriterThreshold: 2 * 1024 * 1024, useSynchronizationContext: false));
                var reader = _pipe.Reader.AsStream();
                _upload = Task.Run(async () =>
                {
                    await using (reader.ConfigureAwait(false))
                    {
                        return await store.WriteAsync(reader, uploadCancellation).ConfigureAwait(false);
                    }
                }, uploadCancellation);
                _head = null;
                await PipeAsync(head.GetBuffer().AsMemory(0, (int)head.Length), cancellationToken).ConfigureAwait(false);
            }

            await PipeAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        private async ValueTask PipeAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
        {
            var result = await _pipe!.Writer.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (result.IsCompleted)
            {
                // The store stopped reading: it failed; its error is the one to report.
                await _upload!.ConfigureAwait(false);
                throw new InvalidOperationException("The stream store stopped reading the spilled state before its end.");
            }
        }

        /// <summary>Ends the state: its bytes when it stayed under the threshold, else the stored content once written.</summary>
        public async Task<Saved> FinishAsync()
        {
            _finished = true;
            if (_head is { } head)
            {
                return new Saved(head.ToArray(), null);
            }

            await _pipe!.Writer.CompleteAsync().ConfigureAwait(false);
            return new Saved([], await _upload!.ConfigureAwait(false), _largestWrite >= WholeValueSize);
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_finished && _pipe is { } pipe)
            {
                // Serializing failed midway: the store's write fails too and leaves nothing readable behind.
                await pipe.Writer.CompleteAsync(new OperationCanceledException("The state's serialization failed; its spilled part is discarded.")).ConfigureAwait(false);
                try
                {
                    await _upload!.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or StoreUnavailableException or IOException)
                {
                    // Expected: the write was abandoned.
                }
            }

            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
