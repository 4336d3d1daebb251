using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary>
/// What a new user types wrong, and what the tool must then do: one line naming what is wrong and where, a non-zero exit
/// code, no stack trace, and the store exactly as it was; and the read-only commands' output for people and scripts.
/// </summary>
public sealed class CliInputTests : ParcelStoreTest
{
    [Theory]
    [InlineData("is too long: at most 36500d", "purge", "--older-than", "1e9d")]
    [InlineData("is too long: at most 36500d", "purge", "--older-than", "3000000d")]
    [InlineData("is too long: at most 36500d", "serve", "--lease-duration", "1e9d")]
    [InlineData("--health-urls 'ftp://127.0.0.1:8081' is not an http URL without a path", "serve", "--health-urls", "ftp://127.0.0.1:8081")]
    [InlineData("--health-urls 'http://127.0.0.1:8081/probe' is not an http URL without a path", "serve", "--health-urls", "http://127.0.0.1:8081/probe")]
    [InlineData("is not a duration", "purge", "--older-than", "-3d")]
    [InlineData("--status 'Bogus' is not a status: use Pending, Running", "runs", "list", "--status", "Bogus")]
    [InlineData("--status '3' is not a status", "runs", "list", "--status", "3")]
    [InlineData("--limit must be 1 or more; it is -1", "runs", "list", "--limit", "-1")]
    [InlineData("--limit must be 1 or more; it is 0", "outbox", "list", "--limit", "0")]
    [InlineData("--status 'Sent' is not an outbox status", "outbox", "list", "--status", "Sent")]
    [InlineData("--state 'some' is not full, none or a number", "runs", "show", "01a23a7268247791ab117efd9d87fcad", "--state", "some")]
    [InlineData("cairn demo runs on a SQLite file", "demo", "--store", "Host=127.0.0.1;Port=1;Username=nobody")]
    [InlineData("--store is not a valid PostgreSQL connection string: Couldn't set garbage", "runs", "list", "--store", "Host=127.0.0.1;garbage=1")]
    [InlineData("looks like a connection string but names no Host=", "runs", "list", "--store", "Data Source=x.db;Mode=ReadOnly")]
    public async Task BadInput_OneLineNamingIt_NonZeroExit_StoreUnchanged(string expected, params string[] arguments)
    {
        var before = Fingerprint();

        var result = await CairnAsync(arguments);

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("cairn: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter '", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Usage:", result.Output, StringComparison.Ordinal);
        Assert.Equal(before, Fingerprint());
    }

    [Fact]
    public async Task ParseError_NamesTheCommandsHelp()
    {
        var result = await CairnAsync("runs", "list", "--status", "Bogus");

        Assert.Equal(2, result.ExitCode);
        Assert.EndsWith("(see 'cairn runs list --help').", result.Errors.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadOnlyCommands_OnAnEmptyFile_RefuseIt_AndWriteNothing()
    {
        var empty = Path.Combine(Store.Dir, "empty.db");
        await File.WriteAllBytesAsync(empty, []);

        var list = await CairnAsync("runs", "list", "--store", empty);
        var outbox = await CairnAsync("outbox", "list", "--store", empty);
        var rerun = await CairnAsync("runs", "rerun", Store.Failed.ToString(), "--store", empty);

        foreach (var result in new[] { list, outbox, rerun })
        {
            Assert.Equal(1, result.ExitCode);
            Assert.Contains($"'{empty}' is not a Cairn store", result.Errors, StringComparison.Ordinal);
        }

        Assert.Equal(0, new FileInfo(empty).Length);
    }

    [Fact]
    public async Task ReadOnlyCommands_LeaveTheStoreFileAsItWas()
    {
        var before = Fingerprint();

        Assert.Equal(0, (await CairnAsync("runs", "list")).ExitCode);
        Assert.Equal(0, (await CairnAsync("runs", "show", Store.Failed.ToString())).ExitCode);
        Assert.Equal(0, (await CairnAsync("outbox", "list")).ExitCode);

        Assert.Equal(before, Fingerprint());
    }

    [Fact]
    public async Task Cancel_WhileAnotherWriterHoldsTheFile_FailsNamingTheFile_AndChangesNothing()
    {
        await using var other = new SqliteConnection($"Data Source={StorePath};Pooling=False");
        await other.OpenAsync();
        await using (var begin = other.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync();
        }

        var result = await CairnAsync("runs", "cancel", Store.Failed.ToString());
        await using (var rollback = other.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"'{StorePath}'", line, StringComparison.Ordinal);
        Assert.Contains("database is locked", line, StringComparison.Ordinal);
        Assert.Contains("Failed", (await CairnAsync("runs", "show", Store.Failed.ToString(), "--state", "none")).Output, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Serve_OnAStoreItMayNotWrite_RefusesAtStart_InOneLine()
    {
        // A folder anyone may write, holding a store file only root may write; the node runs as 'nobody'.
        File.SetUnixFileMode(Store.Dir, (UnixFileMode)0b111_101_101);
        var folder = Path.Combine(Store.Dir, "shared");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111);
        var store = Path.Combine(folder, "cairn.db");
        File.Copy(StorePath, store);
        File.SetUnixFileMode(store, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Equal("root", Environment.UserName);

        var start = new ProcessStartInfo("runuser") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-u", "nobody", "--", "env", "HOME=/tmp", "NO_COLOR=1", Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            Path.Combine(AppContext.BaseDirectory, "Cairn.Cli.dll"), "serve", "--store", store })
        {
            start.ArgumentList.Add(argument);
        }

        using var node = Process.Start(start)!;
        var errors = node.StandardError.ReadToEndAsync();
        var output = node.StandardOutput.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await node.WaitForExitAsync(patience.Token);

        Assert.Equal(1, node.ExitCode);
        var line = Assert.Single((await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"cairn: The SQLite database '{store}' is read-only (its file or folder cannot be written): an engine must write its store. " +
            "To look at its runs without changing them, open it with SqliteStoreOptions.ReadOnly.", line);
        Assert.DoesNotContain("   at ", await output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsList_StoreIsAFolder_SaysSo()
    {
        var result = await CairnAsync("runs", "list", "--store", Store.Dir);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"cairn: '{Store.Dir}' is a folder, not a store file: pass --store FOLDER/cairn.db.", result.Errors.Trim());
    }

    [Fact]
    public async Task Demo_StoreInAMissingFolder_RefusedWithoutCreatingIt()
    {
        var missing = Path.Combine(Store.Dir, "no-such-folder", "x.db");

        var result = await CairnAsync("demo", "--store", missing);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"The folder of the store '{missing}' does not exist", result.Errors, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(missing)));
    }

    [Fact]
    public async Task RunsShow_LimitsTheState_ToTheLinesAsked()
    {
        var limited = await CairnAsync("runs", "show", Store.Failed.ToString(), "--state", "3");
        var none = await CairnAsync("runs", "show", Store.Failed.ToString(), "--state", "none");
        var full = await CairnAsync("runs", "show", Store.Failed.ToString(), "--state", "full");

        Assert.Contains("more line(s): --state full shows them all", limited.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("label-1\"", limited.Output, StringComparison.Ordinal);
        Assert.Contains("(not shown: --state none)", none.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Destination\"", none.Output, StringComparison.Ordinal);
        Assert.Contains("\"label-30\"", full.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("more line(s)", full.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsShow_TamperedCheckpoint_SaysItsChecksumFails()
    {
        await using (var connection = new SqliteConnection($"Data Source={StorePath};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var tamper = connection.CreateCommand();
            tamper.CommandText = "UPDATE checkpoints SET state = CAST(REPLACE(CAST(state AS TEXT), 'nowhere', 'Bergen') AS BLOB) WHERE run_id = $run";
            tamper.Parameters.AddWithValue("$run", Store.Failed.ToString());
            Assert.Equal(1, await tamper.ExecuteNonQueryAsync());
        }

        var text = await CairnAsync("runs", "show", Store.Failed.ToString());
        var json = await CairnAsync("runs", "show", Store.Failed.ToString(), "--json");

        Assert.Contains("its checksum FAILS", text.Output, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json.Output);
        Assert.False(document.RootElement.GetProperty("state").GetProperty("checksumMatches").GetBoolean());
    }

    [Fact]
    public async Task RunsList_Json_IsOneDocumentWithEveryRun()
    {
        var result = await CairnAsync("runs", "list", "--json");

        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.Output);
        var runs = document.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!, r => r);
        Assert.Equal(2, runs.Count);
        Assert.Equal("Failed", runs[Store.Failed.ToString()].GetProperty("status").GetString());
        Assert.Equal("no such destination", runs[Store.Failed.ToString()].GetProperty("lastError").GetString()?.Split(": ")[^1]);
        Assert.Equal("parcel-ok", runs[Store.Completed.ToString()].GetProperty("recoveryId").GetString());
        Assert.Equal(JsonValueKind.Null, runs[Store.Completed.ToString()].GetProperty("ownerAlive").ValueKind);
    }

    [Fact]
    public async Task RunsShow_Json_HasEventsCheckpointsAndState()
    {
        var result = await CairnAsync("runs", "show", Store.Failed.ToString(), "--json", "--state", "full");

        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.Output);
        var root = document.RootElement;
        Assert.Equal(Store.Failed.ToString(), root.GetProperty("run").GetProperty("id").GetString());
        Assert.Contains(root.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == "RecoveryPointPassed");
        Assert.Equal("weighed", root.GetProperty("checkpoints")[0].GetProperty("recoveryPoint").GetString());
        var state = root.GetProperty("state");
        Assert.Equal("checkpoint", state.GetProperty("source").GetString());
        Assert.True(state.GetProperty("checksumMatches").GetBoolean());
        Assert.Equal(30, state.GetProperty("value").GetProperty("Labels").GetArrayLength());
    }

    [Fact]
    public async Task Output_IntoAPipe_HasNoEscapeCodes_EvenWithoutNoColor()
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Store.Dir,
        };
        start.Environment.Remove("NO_COLOR");
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Cairn.Cli.dll"), "runs", "show", Store.Failed.ToString() })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("Failed", output, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', output);
    }

    private string Fingerprint()
    {
        SqliteConnection.ClearAllPools();
        // The WAL counts once it holds anything: a reader may leave an empty one behind, which changes no data.
        var files = new[] { StorePath, StorePath + "-wal" }.Where(f => File.Exists(f) && new FileInfo(f).Length > 0);
        return string.Join(",", files.Select(f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))));
    }
}
