using Cairn.Storage;
using Cairn.StoreContract;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

public sealed class SqliteStreamStoreContractTests : StreamStoreContract
{
    private readonly TemporaryDatabase _database = new();

    private static CancellationToken Ct => CancellationToken.None;

    private SqliteRunStore Store => (SqliteRunStore)Streams;

    protected override async Task<IStreamStore> CreateAsync(FakeTimeProvider time)
    {
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = _database.Path, TimeProvider = time });
        await store.InitializeAsync(Ct);
        return store;
    }

    protected override Task DestroyAsync()
    {
        _database.Delete();
        return Task.CompletedTask;
    }

    private long Count(string sql)
    {
        using var connection = Store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar());
    }

    [Fact]
    public async Task WriteAsync_StoresContentInChunksOfOneMebibyte_AndLeavesNoUpload()
    {
        var content = Content((int)(2.5 * 1024 * 1024));

        var stored = await Streams.WriteAsync(new MemoryStream(content), Ct);

        Assert.Equal(3, Count("SELECT COUNT(*) FROM stream_chunks"));
        Assert.Equal(1024 * 1024, Count("SELECT MAX(length(bytes)) FROM stream_chunks"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM stream_uploads"));
        Assert.Equal(content.Length, Count($"SELECT length FROM stream_contents WHERE sha256 = '{stored.Sha256}'"));
    }

    [Fact]
    public async Task WriteAsync_SameContentTwice_KeepsOneCopyOfItsChunks()
    {
        var content = Content(1_500_000);

        await Streams.WriteAsync(new MemoryStream(content), Ct);
        await Streams.WriteAsync(new MemoryStream(content), Ct);

        Assert.Equal(2, Count("SELECT COUNT(*) FROM stream_chunks"));
        Assert.Equal(1, Count("SELECT COUNT(*) FROM stream_contents"));
    }

    [Fact]
    public async Task ListUntouchedAsync_DiscardsUploadsAbandonedBeforeTheCutoff_AndKeepsYoungerOnes()
    {
        using (var connection = Store.OpenConnection())
        using (var command = connection.CreateCommand())
        {
            // What a crash mid-write leaves: an upload with a chunk, never published.
            command.CommandText =
                "INSERT INTO stream_uploads (id, started_at) VALUES (41, $old), (42, $young); " +
                "INSERT INTO stream_chunks (upload_id, idx, bytes) VALUES (41, 0, x'01'), (42, 0, x'02')";
            command.Parameters.AddWithValue("$old", Time.GetUtcNow().AddHours(-2).UtcTicks);
            command.Parameters.AddWithValue("$young", Time.GetUtcNow().UtcTicks);
            command.ExecuteNonQuery();
        }

        await foreach (var _ in Streams.ListUntouchedAsync(Time.GetUtcNow().AddHours(-1), Ct))
        {
        }

        Assert.Equal(42, Count("SELECT group_concat(id) FROM stream_uploads"));
        Assert.Equal(42, Count("SELECT group_concat(upload_id) FROM stream_chunks"));
    }

    [Fact]
    public async Task WriteAsync_ToAReadOnlyStore_ThrowsStoreUnavailableNamingTheFile()
    {
        await using var readOnly = new SqliteRunStore(new SqliteStoreOptions { Path = _database.Path, ReadOnly = true, TimeProvider = Time });

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => readOnly.WriteAsync(new MemoryStream(Content(10)), Ct));

        Assert.Contains(_database.Path, error.Message, StringComparison.Ordinal);
        Assert.IsType<SqliteException>(error.InnerException);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM stream_uploads"));
    }

    [Fact]
    public async Task WriteAsync_SourceFailsMidway_DiscardsTheUpload()
    {
        var failing = new SourceStream(Content(3 * 1024 * 1024), chunk: 64 * 1024, failAfter: 2 * 1024 * 1024);

        await Assert.ThrowsAsync<IOException>(() => Streams.WriteAsync(failing, Ct));

        Assert.Equal(0, Count("SELECT COUNT(*) FROM stream_uploads"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM stream_chunks"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM stream_contents"));
    }
}
