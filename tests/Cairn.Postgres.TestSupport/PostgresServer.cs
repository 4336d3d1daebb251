using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cairn.Postgres.TestSupport;

/// <summary>
/// A throwaway PostgreSQL cluster on 127.0.0.1 in a temporary folder, started with <c>initdb</c> and <c>pg_ctl</c>:
/// fsync and synchronous commit on, trust authentication for the user <c>postgres</c>. As root (CI), the cluster runs as
/// the <c>postgres</c> OS user, since PostgreSQL refuses to run as root.
/// </summary>
#if CAIRN_BENCH
internal // Compiled into the load generator too, where it must not clash with this project's public type.
#else
public
#endif
sealed class PostgresServer : IAsyncDisposable
{

    private readonly string _binaries;
    private readonly string _root;
    private readonly bool _asPostgresUser;
    private bool _running;

    private PostgresServer(string binaries, string root, int port, bool asPostgresUser)
    {
        _binaries = binaries;
        _root = root;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; }

    /// <summary>The cluster's data directory: its tables, WAL and everything else the server writes.</summary>
    public string DataFolder => Path.Combine(_root, "data");

    private string LogFile => Path.Combine(_root, "server.log");

    /// <summary>The connection string of a database on this server (default: the <c>postgres</c> database).</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=5;Command Timeout=30";

    /// <summary>Creates a cluster in a new temporary folder and starts it.</summary>
    public static async Task<PostgresServer> StartNewAsync()
    {
        var binaries = FindBinaries();
        var root = Directory.CreateTempSubdirectory("cairn-pg-").FullName;
        var asPostgresUser = Environment.UserName == "root";
        var server = new PostgresServer(binaries, root, FreePort(), asPostgresUser);
        try
        {
            if (asPostgresUser)
            {
                await RunAsync("chown", ["postgres:", root]);
            }

            // --no-sync: initdb skips flushing the new files to disk; the server itself runs with fsync on.
            await server.RunPostgresToolAsync("initdb", ["-D", server.DataFolder, "-U", "postgres", "--auth=trust", "--no-sync", "--no-instructions"]);
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// More server settings from <c>CAIRN_PG_SERVER_OPTIONS</c>, for profiling a benchmark (for example
    /// <c>-c shared_preload_libraries=pg_stat_statements</c>); empty by default.
    /// </summary>
    private static string ExtraOptions => Environment.GetEnvironmentVariable("CAIRN_PG_SERVER_OPTIONS") ?? "";

    public async Task StartAsync()
    {
        await RunPostgresToolAsync("pg_ctl",
        [
            "-D", DataFolder, "-l", LogFile, "-w", "-t", "60",
            "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -c unix_socket_directories={DataFolder} -c fsync=on -c synchronous_commit=on {ExtraOptions}",
            "start",
        ]);
        _running = true;
    }

    /// <summary>
    /// Restarts the server as a crash would: <c>pg_ctl restart -m immediate</c> ends every backend at once without a
    /// shutdown checkpoint, and the server recovers from its WAL as it starts, with the options it was started with.
    /// </summary>
    public async Task RestartAsync()
    {
        await RunPostgresToolAsync("pg_ctl", ["-D", DataFolder, "-l", LogFile, "-m", "immediate", "-w", "-t", "60", "restart"]);
        _running = true;
    }

    public async Task StopAsync()
    {
        _running = false;
        await RunPostgresToolAsync("pg_ctl", ["-D", DataFolder, "-m", "immediate", "-w", "stop"]);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_running)
            {
                await StopAsync();
            }
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    // PATH first (/usr/local/bin links them on the team's machines), then Debian's versioned folders, newest first.
    private static string FindBinaries()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(folder => int.TryParse(Path.GetFileName(folder), out var version) ? version : 0)
                .Select(folder => Path.Combine(folder, "bin"))
            : [];
        foreach (var folder in onPath.Append("/usr/local/bin").Concat(debian))
        {
            if (File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl")))
            {
                return folder;
            }
        }

        throw new InvalidOperationException(
            "The PostgreSQL tests start their own throwaway server, but initdb and pg_ctl were found neither on PATH nor in " +
            "/usr/lib/postgresql/*/bin. Install PostgreSQL: apt-get install postgresql");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Task RunPostgresToolAsync(string tool, string[] arguments)
    {
        var path = Path.Combine(_binaries, tool);
        return _asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments]) : RunAsync(path, arguments);
    }

    private static async Task RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await error}");
        }
    }
}
