using System.Globalization;
using System.Reflection;

namespace Cairn.Storage;

/// <summary>
/// One numbered schema script of a store, embedded in the store's assembly as <c>Migrations/NNNN_name.sql</c>. Stores
/// apply the missing ones in order, in one transaction, and record the version in the database.
/// </summary>
/// <param name="Version">The script's number: 1, 2, 3… without gaps.</param>
/// <param name="Name">The file name without its extension, such as <c>0001_initial</c>.</param>
/// <param name="Sql">The script.</param>
public sealed record SchemaMigration(int Version, string Name, string Sql)
{
    /// <summary>Loads the scripts embedded in <paramref name="assembly"/> under <paramref name="resourcePrefix"/>, in version order.</summary>
    /// <param name="assembly">The store's assembly.</param>
    /// <param name="resourcePrefix">The resource names' prefix, such as <c>Cairn.Sqlite.Migrations.</c>.</param>
    /// <exception cref="InvalidOperationException">A script is misnamed, the numbers have gaps or duplicates, or there is none.</exception>
    public static IReadOnlyList<SchemaMigration> LoadEmbedded(Assembly assembly, string resourcePrefix)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentException.ThrowIfNullOrEmpty(resourcePrefix);
        var migrations = new List<SchemaMigration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(resourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[resourcePrefix.Length..^".sql".Length];
            var separator = name.IndexOf('_', StringComparison.Ordinal);
            if (separator <= 0 || !int.TryParse(name.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"The embedded migration '{resource}' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new SchemaMigration(version, name, reader.ReadToEnd()));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"The embedded migrations must be numbered 1, 2, 3… without gaps or duplicates; found '{migrations[i].Name}' at position {i + 1}.");
            }
        }

        return migrations.Count > 0 ? migrations : throw new InvalidOperationException($"No embedded migrations were found under '{resourcePrefix}'.");
    }
}
