using System.Globalization;

namespace Cairn.Postgres;

/// <summary>One numbered schema script embedded from <c>Migrations/NNNN_name.sql</c>.</summary>
internal sealed record PostgresMigration(int Version, string Name, string Sql)
{
    private const string Prefix = "Cairn.Postgres.Migrations.";

    /// <summary>All migrations, in version order; versions run 1, 2, 3… without gaps.</summary>
    public static IReadOnlyList<PostgresMigration> All { get; } = Load();

    /// <summary>The schema version this code creates and understands.</summary>
    public static int LatestVersion => All[^1].Version;

    private static List<PostgresMigration> Load()
    {
        var assembly = typeof(PostgresMigration).Assembly;
        var migrations = new List<PostgresMigration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[Prefix.Length..^".sql".Length];
            var separator = name.IndexOf('_', StringComparison.Ordinal);
            if (separator <= 0 || !int.TryParse(name.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"The embedded migration '{resource}' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new PostgresMigration(version, name, reader.ReadToEnd()));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"The embedded migrations must be numbered 1, 2, 3… without gaps or duplicates; found '{migrations[i].Name}' at position {i + 1}.");
            }
        }

        return migrations.Count > 0 ? migrations : throw new InvalidOperationException("No embedded migrations were found.");
    }
}
