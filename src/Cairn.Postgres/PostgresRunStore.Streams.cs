using System.Runtime.CompilerServices;
using Npgsql;

namespace Cairn.Postgres;

/// <summary>The store keeps runs' named streams in its database, and knows which of them its checkpoints still need.</summary>
public sealed partial class PostgresRunStore : IStreamStore, IStreamReferences
{
    /// <inheritdoc />
    /// <remarks>
    /// The content goes in chunks of 1 MiB, each in a short transaction of its own on a pooled connection, under a new
    /// upload, and is published in one statement at the end; until then no reader sees it. When a node dies mid-write,
    /// its upload is swept with the next <see cref="ListUntouchedAsync"/> whose cutoff is later than its last chunk.
    /// </remarks>
    public async Task<StoredStream> WriteAsync(Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var upload = Guid.NewGuid();
        await StreamCommandAsync(_sql.Streams.BeginUpload, p => Add(p, "upload_id", upload), (_, _) => Task.FromResult(true), cancellationToken).ConfigureAwait(false);
        try
        {
            var index = 0;
            var stored = await Cairn.Storage.StreamContent.CopyAsync(content, async (chunk, ct) =>
            {
                var written = await StreamCommandAsync(
                    _sql.Streams.WriteChunk,
                    p => Add(p, ("upload_id", upload), ("idx", index), ("bytes", chunk)),
                    (reader, token) => reader.ReadAsync(token),
                    ct).ConfigureAwait(false);
                if (!written)
                {
                    throw UploadSwept();
                }

                index++;
            }, cancellationToken).ConfigureAwait(false);

            var found = await StreamCommandAsync(
                _sql.Streams.Publish,
                p => Add(p, ("upload_id", upload), ("sha256", stored.Sha256), ("length", stored.Length)),
                async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) && reader.GetBoolean(0),
                cancellationToken).ConfigureAwait(false);
            return found ? stored : throw UploadSwept();
        }
        catch (Exception ex) when (ex is not StoreUnavailableException { InnerException: NpgsqlException and not PostgresException })
        {
            // A failed or cancelled write leaves no upload behind, unless the database cannot be reached (no use waiting
            // for that once more): then the next sweep removes it.
            await DropUploadAsync(upload).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>The stream fetches one chunk at a time, each in a round trip of its own, when the caller has read the previous one.</remarks>
    public async Task<Stream> OpenReadAsync(StoredStream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var found = await StreamCommandAsync<(Guid Upload, long Length)?>(
            _sql.Streams.Find,
            p => Add(p, "sha256", stream.Sha256),
            async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) ? (reader.GetGuid(0), reader.GetInt64(1)) : null,
            cancellationToken).ConfigureAwait(false);
        return found is { } content
            ? new PostgresStreamReadStream(this, content.Upload, content.Length, stream)
            : throw new StreamNotFoundException($"{StreamsWhere} holds no stream content {stream}.");
    }

    /// <inheritdoc />
    public Task<bool> TouchAsync(StoredStream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return StreamCommandAsync(_sql.Streams.Touch, p => Add(p, "sha256", stream.Sha256), (reader, ct) => reader.ReadAsync(ct), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>First deletes the uploads nothing was written to since <paramref name="untouchedSince"/>: those of writers that died.</remarks>
    public async IAsyncEnumerable<StoredStream> ListUntouchedAsync(DateTimeOffset untouchedSince, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var cutoff = untouchedSince.ToUniversalTime();
        await StreamCommandAsync(_sql.Streams.SweepUploads, p => Add(p, "untouched_since", cutoff), (_, _) => Task.FromResult(true), cancellationToken).ConfigureAwait(false);

        // Page by page in hash order, so that no connection stays open while the caller deletes what it was given.
        var after = string.Empty;
        while (true)
        {
            var page = await StreamCommandAsync(
                _sql.Streams.ListUntouched,
                p => Add(p, ("untouched_since", cutoff), ("after", after)),
                async (reader, ct) =>
                {
                    var found = new List<StoredStream>();
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        found.Add(new StoredStream(reader.GetString(0), reader.GetInt64(1)));
                    }

                    return found;
                },
                cancellationToken).ConfigureAwait(false);
            foreach (var stream in page)
            {
                yield return stream;
            }

            if (page.Count < PostgresStreamSql.ListPageSize)
            {
                yield break;
            }

            after = page[^1].Sha256;
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(StoredStream stream, DateTimeOffset untouchedSince, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return StreamCommandAsync(
            _sql.Streams.Delete,
            p => Add(p, ("sha256", stream.Sha256), ("untouched_since", untouchedSince.ToUniversalTime())),
            async (reader, ct) => await reader.ReadAsync(ct).ConfigureAwait(false) && reader.GetInt32(0) > 0,
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlySet<string>> GetReferencedStreamsAsync(CancellationToken cancellationToken) =>
        StreamCommandAsync<IReadOnlySet<string>>(
            _sql.Streams.GetReferenced,
            _ => { },
            async (reader, ct) =>
            {
                var referenced = new HashSet<string>(StringComparer.Ordinal);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    foreach (var stream in StreamManifest.Parse(reader.GetString(0)).Values)
                    {
                        referenced.Add(stream.Sha256);
                    }
                }

                return referenced;
            },
            cancellationToken);

    /// <summary>The stream store's statements, for its read streams.</summary>
    internal PostgresStreamSql StreamSql => _sql.Streams;

    /// <summary>Where the streams are, for messages: the database and schema.</summary>
    internal string StreamsWhere => $"{Capitalized(_database)}, schema '{_sql.Schema}',";

    /// <summary>The error for a failed statement of the stream store: every database error means the content cannot be kept or read.</summary>
    internal Exception StreamError(NpgsqlException exception) => IsUnavailable(exception)
        ? Unavailable(exception)
        : new StoreUnavailableException($"{StreamsWhere} cannot keep stream content: {exception.Message}", exception);

    private async Task<T> StreamCommandAsync<T>(
        string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadAsync(
                sql,
                parameters =>
                {
                    bind(parameters);
                    if (_testClock is { } clock && sql.Contains("@now", StringComparison.Ordinal))
                    {
                        Add(parameters, "now", clock().ToUniversalTime());
                    }
                },
                read,
                cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            throw StreamError(ex);
        }
    }

    private async Task DropUploadAsync(Guid upload)
    {
        try
        {
            await StreamCommandAsync(_sql.Streams.DropUpload, p => Add(p, "upload_id", upload), (_, _) => Task.FromResult(true), CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StoreUnavailableException or ObjectDisposedException)
        {
            // Left to the next sweep.
        }
    }

    private InvalidOperationException UploadSwept() => new(
        $"An upload of stream content to {_database}, schema '{_sql.Schema}', was swept as abandoned while it was being written: " +
        "nothing was written to it for longer than the sweep's cutoff. Write the stream again.");
}
