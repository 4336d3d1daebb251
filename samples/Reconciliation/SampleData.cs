using System.Globalization;
using System.Text;

namespace Reconciliation;

/// <summary>Writes a folder of accounts, ledger entries and bank statements; every fifth account is off by one cent.</summary>
public static class SampleData
{
    /// <summary>Writes <paramref name="accounts"/> accounts of <paramref name="entries"/> entries each into <paramref name="folder"/>.</summary>
    public static void Write(string folder, int accounts, int entries = 50, int seed = 7)
    {
        var random = new Random(seed);
        Directory.CreateDirectory(Path.Combine(folder, "ledger"));
        Directory.CreateDirectory(Path.Combine(folder, "bank"));
        var names = Enumerable.Range(1, accounts).Select(i => $"ACC-{i:D4}").ToList();
        File.WriteAllLines(Path.Combine(folder, "accounts.txt"), names);
        foreach (var (name, index) in names.Select((n, i) => (n, i)))
        {
            var ledger = new StringBuilder("id,amount\n");
            var bank = new StringBuilder("id,amount\n");
            for (var e = 1; e <= entries; e++)
            {
                var amount = Math.Round((decimal)(random.NextDouble() * 1000), 2);
                ledger.Append(CultureInfo.InvariantCulture, $"{name}-{e},{amount}\n");
                var off = index % 5 == 4 && e == 1 ? 0.01m : 0m;
                bank.Append(CultureInfo.InvariantCulture, $"{name}-{e},{amount + off}\n");
            }

            File.WriteAllText(Path.Combine(folder, "ledger", $"{name}.csv"), ledger.ToString());
            File.WriteAllText(Path.Combine(folder, "bank", $"{name}.csv"), bank.ToString());
        }
    }

    /// <summary>How many accounts <see cref="Write"/> makes differ: every fifth.</summary>
    public static int Mismatched(int accounts) => accounts / 5;
}
