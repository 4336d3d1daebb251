using System.Runtime.CompilerServices;

namespace Cairn.Storage;

public sealed partial class InMemoryRunStore : IStreamStore, IStreamReferences
{
    private readonly Dictionary<string, (byte[] Content, DateTimeOffset Touched)> _streams = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public async Task<StoredStream> WriteAsync(Stream content, CancellationToken cancellationToken)
    {
        using var copy = new MemoryStream();
        var stored = await StreamContent.CopyAsync(content, (chunk, ct) => copy.WriteAsync(chunk, ct), cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _streams[stored.Sha256] = (_streams.TryGetValue(stored.Sha256, out var kept) ? kept.Content : copy.ToArray(), _timeProvider.GetUtcNow());
        }

        return stored;
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(StoredStream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        lock (_lock)
        {
            return _streams.TryGetValue(stream.Sha256, out var kept)
                ? Task.FromResult<Stream>(new MemoryStream(kept.Content, writable: false))
                : throw new StreamNotFoundException($"The in-memory store holds no stream content {stream}.");
        }
    }

    /// <inheritdoc />
    public Task<bool> TouchAsync(StoredStream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        lock (_lock)
        {
            if (!_streams.TryGetValue(stream.Sha256, out var kept))
            {
                return Task.FromResult(false);
            }

            _streams[stream.Sha256] = (kept.Content, _timeProvider.GetUtcNow());
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredStream> ListUntouchedAsync(DateTimeOffset untouchedSince, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<StoredStream> found;
        lock (_lock)
        {
            found = [.. _streams.Where(s => s.Value.Touched < untouchedSince).Select(s => new StoredStream(s.Key, s.Value.Content.Length))];
        }

        foreach (var stream in found)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return stream;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(StoredStream stream, DateTimeOffset untouchedSince, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        lock (_lock)
        {
            return Task.FromResult(_streams.TryGetValue(stream.Sha256, out var kept) && kept.Touched < untouchedSince && _streams.Remove(stream.Sha256));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlySet<string>> GetReferencedStreamsAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlySet<string> referenced = _runs.Values
                .SelectMany(e => e.Checkpoints)
                .SelectMany(c => c.Streams.Values)
                .Select(s => s.Sha256)
                .ToHashSet(StringComparer.Ordinal);
            return Task.FromResult(referenced);
        }
    }

    /// <summary>Replaces stored content's bytes in place, as damage on disk would. For tests.</summary>
    internal void ReplaceStreamContentForTests(StoredStream stream, byte[] content)
    {
        lock (_lock)
        {
            _streams[stream.Sha256] = (content, _streams[stream.Sha256].Touched);
        }
    }
}
