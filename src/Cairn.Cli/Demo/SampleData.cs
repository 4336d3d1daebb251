
namespace Cairn.Cli.Demo;

/// <summary>Writes a realistic orders CSV: mostly good lines, a few invalid ones.</summary>
internal static class SampleData
{
    private static readonly string[] Customers = ["Acme GmbH", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Tyrell"];
    private static readonly string[] Skus = ["SKU-1001", "SKU-1002", "SKU-2001", "SKU-3300", "SKU-4711", "SKU-5150"];

    /// <summary>Writes <paramref name="count"/> orders; every 50th has a zero quantity, so validation rejects it.</summary>
    public static void WriteOrdersCsv(string path, int count, int seed = 42)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("id,customer,sku,quantity,unit_price\n");
        for (var i = 1; i <= count; i++)
        {
            var quantity = i % 50 == 0 ? 0 : random.Next(1, 20);
            var price = Math.Round((decimal)(random.NextDouble() * 200 + 1), 2);
            csv.Append(CultureInfo.InvariantCulture, $"ORD-{i:D6},{Customers[random.Next(Customers.Length)]},{Skus[random.Next(Skus.Length)]},{quantity},{price.ToString(CultureInfo.InvariantCulture)}\n");
        }

        File.WriteAllText(path, csv.ToString());
    }

    /// <summary>The number of orders <see cref="WriteOrdersCsv"/> writes that pass validation.</summary>
    public static int ValidCount(int count) => count - (count / 50);
}
