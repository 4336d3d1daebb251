using System.Security.Cryptography;
using System.Text;
using Cairn.Flows;
using Cairn.Serialization.Protection;

namespace Cairn.Postgres.Tests.Protection;

/// <summary>
/// A run on PostgreSQL with encryption on: a canary put in its input, its state, a spilled state, a stream and its result
/// is in no file of the cluster's data directory (tables, TOAST, WAL) after a CHECKPOINT; with encryption off it is found.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresEncryptionAtRestTests(PostgresCluster cluster) : IAsyncLifetime
{
    private readonly string _schema = cluster.NewSchema("canary");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => cluster.DropSchemaAsync(_schema);

    private static Flow<List<string>> CanaryFlow(string canary) => Flow.Create<List<string>>("canary")
        .Stage("put", async (context, ct) =>
        {
            context.State.Add($"state {canary}");
            // Past CairnOptions.StateSpillThreshold (1 MiB): the recovery point writes the state to the stream store.
            context.State.Add(new string('x', 1_200_000) + canary);
            var csv = new StringBuilder("order_id,note\n");
            for (var i = 0; i < 20_000; i++)
            {
                csv.Append(i).Append(',').Append(i % 1000 == 0 ? canary : RandomNumberGenerator.GetHexString(16)).Append('\n');
            }

            await context.Streams.PutAsync("orders.csv", new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), ct);
        })
        .RecoveryPoint("downloaded")
        .Stage("read", async (context, ct) =>
        {
            await using var stream = await context.Streams.OpenAsync("orders.csv", ct);
            using var reader = new StreamReader(stream);
            context.State.Add($"read {(await reader.ReadToEndAsync(ct)).Split(canary).Length - 1} canaries");
        })
        .Build();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARunsCanary_IsInNoFileOfTheDataDirectory_OnlyWithEncryption(bool encrypt)
    {
        var canary = $"CANARY-{Guid.NewGuid():N}";
        var flow = CanaryFlow(canary);
        var builder = CairnEngine.CreateBuilder()
            .UsePostgres(cluster.ConnectionString, options => options.Schema = _schema)
            .Configure(options => options.ShutdownTimeout = TimeSpan.Zero)
            .AddFlow(flow);
        if (encrypt)
        {
            builder.UseEncryption(new CheckpointKeyRing(new CheckpointKey("2026-12", RandomNumberGenerator.GetBytes(32))));
        }

        await using (var engine = builder.Build())
        {
            var outcome = await engine.RunAsync(flow, [$"input {canary}"]).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(outcome.IsCompleted, outcome.Error);
            Assert.Equal($"read 20 canaries", outcome.Result![^1]);
        }

        await cluster.ExecuteAsync("CHECKPOINT");
        var holding = FilesHolding(cluster.Server.DataFolder, canary);

        Assert.Equal(encrypt, holding.Count == 0);
    }

    private static List<string> FilesHolding(string folder, string canary)
    {
        byte[][] needles = [Encoding.UTF8.GetBytes(canary), Encoding.Unicode.GetBytes(canary)];
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (IOException)
            {
                continue; // A file the server is rewriting as it is read (its statistics, say).
            }

            if (needles.Any(needle => bytes.AsSpan().IndexOf(needle) >= 0))
            {
                found.Add(file);
            }
        }

        return found;
    }
}
