using System.IO.Compression;
using System.Text;
using ZstdSharp;

namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>compression</c>: ratio and MB/s of compressing and decompressing two seeded, deterministic samples that look like
/// what runs keep: an orders CSV (a stream) and a JSON state holding a list of order records (a checkpoint), with zstd
/// (ZstdSharp.Port), Brotli and GZip at a few levels. No store is involved: the figures choose the codec of
/// <c>CairnOptions.StateCompression</c>. Each figure is the best of <c>--repeat</c> passes over the whole sample.
/// </summary>
internal static class CompressionWorkload
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly string[] Countries = ["DE", "FR", "NL", "BE", "AT", "CH", "IT", "ES", "PL", "SE", "DK", "US", "GB"];
    private static readonly string[] Statuses = ["placed", "paid", "packed", "shipped", "delivered", "returned", "cancelled"];
    private static readonly string[] Currencies = ["EUR", "EUR", "EUR", "USD", "GBP", "CHF", "SEK", "PLN"];
    private static readonly string[] FirstNames = ["Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Karla", "Luca", "Mia", "Noah", "Olga", "Paul"];
    private static readonly string[] LastNames = ["Müller", "Schmidt", "Dubois", "de Vries", "Rossi", "García", "Nowak", "Andersson", "Jensen", "Smith", "Huber", "Peeters"];
    private static readonly string[] Products = ["Desk lamp", "Office chair", "USB-C cable 2 m", "Notebook A5", "Monitor 27\"", "Keyboard", "Mouse", "Headset", "Webcam", "Standing desk", "Cable tray", "Laptop stand"];

    public static Command CreateCommand()
    {
        var csvMb = new Option<int>("--csv-mb") { Description = "Size of the generated orders CSV in MB", DefaultValueFactory = _ => 50 };
        var jsonMb = new Option<int>("--json-mb") { Description = "Size of the generated JSON state in MB", DefaultValueFactory = _ => 20 };
        var repeat = new Option<int>("--repeat") { Description = "Passes per figure; the best is kept", DefaultValueFactory = _ => 2 };
        var json = new Option<string?>("--json") { Description = "Also write the results to this JSON file", HelpName = "FILE" };
        var command = new Command("compression", "Ratio and MB/s of zstd, Brotli and GZip on an orders CSV and a JSON state") { csvMb, jsonMb, repeat, json };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(csvMb), parse.GetValue(jsonMb), parse.GetValue(repeat), parse.GetValue(json), ct));
        return command;
    }

    private static async Task<int> RunAsync(int csvMb, int jsonMb, int repeat, string? jsonPath, CancellationToken cancellationToken)
    {
        if (csvMb < 1 || jsonMb < 1 || repeat < 1)
        {
            throw new ArgumentException("--csv-mb, --json-mb and --repeat must be 1 or more.");
        }

        var samples = new[] { ("orders CSV", OrdersCsv(csvMb * 1_000_000L)), ("JSON state", OrdersJson(jsonMb * 1_000_000L)) };
        AnsiConsole.MarkupLine($"[bold]compression[/]: {string.Join(", ", samples.Select(s => $"{s.Item1} {Format.Bytes(s.Item2.Length)}"))}; best of {repeat}");
        var codecs = Codecs();
        var rows = new List<CompressionResult>();
        foreach (var (sample, data) in samples)
        {
            foreach (var codec in codecs)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var row = Measure(sample, codec, data, repeat);
                rows.Add(row);
                AnsiConsole.MarkupLine(Markup.Escape($"  {sample}, {codec.Name}: ratio {row.Ratio:N2}, compress {row.CompressMBps:N0} MB/s, decompress {row.DecompressMBps:N0} MB/s"));
            }
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("sample", "codec", "compressed", "ratio", "compress MB/s", "decompress MB/s");
        foreach (var row in rows)
        {
            table.AddRow(Markup.Escape(row.Sample), Markup.Escape(row.Codec), Format.Bytes(row.CompressedBytes), $"{row.Ratio:N2}", $"{row.CompressMBps:N0}", $"{row.DecompressMBps:N0}");
        }

        AnsiConsole.Write(table);
        if (jsonPath is not null)
        {
            var report = new { workload = "compression", machine = MachineInfo.Current(), parameters = new { csvMb, jsonMb, repeat }, results = rows };
            await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, Indented), cancellationToken);
        }

        return 0;
    }

    private static CompressionResult Measure(string sample, Codec codec, byte[] data, int repeat)
    {
        byte[] compressed = [];
        var compressSeconds = double.MaxValue;
        var decompressSeconds = double.MaxValue;
        for (var i = 0; i < repeat; i++)
        {
            var watch = Stopwatch.StartNew();
            compressed = codec.Compress(data);
            compressSeconds = Math.Min(compressSeconds, watch.Elapsed.TotalSeconds);
            watch.Restart();
            var back = codec.Decompress(compressed, data.Length);
            decompressSeconds = Math.Min(decompressSeconds, watch.Elapsed.TotalSeconds);
            if (!back.AsSpan().SequenceEqual(data))
            {
                throw new InvalidOperationException($"{codec.Name} did not give back the {sample}.");
            }
        }

        var mb = data.Length / 1_000_000.0;
        return new CompressionResult(sample, codec.Name, data.Length, compressed.Length, (double)data.Length / compressed.Length, mb / compressSeconds, mb / decompressSeconds);
    }

    private static List<Codec> Codecs()
    {
        var codecs = new List<Codec>();
        foreach (var level in new[] { 1, 3, 6 })
        {
            codecs.Add(new Codec($"zstd {level}", d => new Compressor(level).Wrap(d).ToArray(), (d, n) => new Decompressor().Unwrap(d, n).ToArray()));
        }

        foreach (var quality in new[] { 1, 4, 6 })
        {
            codecs.Add(new Codec($"Brotli {quality}", d => Encode(d, s => new BrotliStream(s, new BrotliCompressionOptions { Quality = quality })), (d, n) => Decode(d, n, s => new BrotliStream(s, CompressionMode.Decompress))));
        }

        foreach (var level in new[] { CompressionLevel.Fastest, CompressionLevel.Optimal })
        {
            codecs.Add(new Codec($"GZip {level}", d => Encode(d, s => new GZipStream(s, level)), (d, n) => Decode(d, n, s => new GZipStream(s, CompressionMode.Decompress))));
        }

        return codecs;
    }

    private static byte[] Encode(byte[] data, Func<Stream, Stream> wrap)
    {
        using var output = new MemoryStream(data.Length / 4);
        using (var compressor = wrap(output))
        {
            compressor.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Decode(byte[] data, int length, Func<Stream, Stream> wrap)
    {
        var output = new byte[length];
        using var decompressor = wrap(new MemoryStream(data));
        decompressor.ReadExactly(output);
        return output;
    }

    /// <summary>An orders CSV of about <paramref name="bytes"/> bytes: a header line, then one order per line.</summary>
    private static byte[] OrdersCsv(long bytes)
    {
        var random = new Random(12);
        var text = new StringBuilder((int)(bytes + 1000));
        text.Append("order_id,created_at,customer_id,customer_name,country,sku,product,quantity,unit_price,currency,status\n");
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var id = 1_000_000; text.Length < bytes; id++)
        {
            var order = Order(random, id, start);
            text.Append(CultureInfo.InvariantCulture, $"{order.OrderId},{order.CreatedAt:yyyy-MM-ddTHH:mm:ssZ},{order.CustomerId},\"{order.Customer}\",{order.Country},{order.Sku},\"{order.Product.Replace("\"", "\"\"", StringComparison.Ordinal)}\",{order.Quantity},{order.UnitPrice:F2},{order.Currency},{order.Status}\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>A JSON state of about <paramref name="bytes"/> bytes: <c>{"batch":…,"orders":[…]}</c>.</summary>
    private static byte[] OrdersJson(long bytes)
    {
        var random = new Random(34);
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var orders = new List<OrderRecord>();
        var estimate = JsonSerializer.SerializeToUtf8Bytes(Order(new Random(1), 1, start)).Length + 1;
        for (var id = 1; (long)orders.Count * estimate < bytes; id++)
        {
            orders.Add(Order(random, id, start));
        }

        return JsonSerializer.SerializeToUtf8Bytes(new { batch = "2026-01", orders });
    }

    private static OrderRecord Order(Random random, int id, DateTime start) => new(
        id,
        start.AddSeconds(id * 7L % 31_536_000 + random.Next(60)),
        $"C{random.Next(200_000):D6}",
        $"{FirstNames[random.Next(FirstNames.Length)]} {LastNames[random.Next(LastNames.Length)]}",
        Countries[random.Next(Countries.Length)],
        $"SKU-{random.Next(5_000):D5}",
        Products[random.Next(Products.Length)],
        1 + random.Next(random.Next(10) == 0 ? 50 : 4),
        Math.Round((decimal)(random.NextDouble() * 400 + 1), 2),
        Currencies[random.Next(Currencies.Length)],
        Statuses[random.Next(Statuses.Length)]);

    private sealed record Codec(string Name, Func<byte[], byte[]> Compress, Func<byte[], int, byte[]> Decompress);

    private sealed record OrderRecord(int OrderId, DateTime CreatedAt, string CustomerId, string Customer, string Country, string Sku, string Product, int Quantity, decimal UnitPrice, string Currency, string Status);

    private sealed record CompressionResult(string Sample, string Codec, long Bytes, long CompressedBytes, double Ratio, double CompressMBps, double DecompressMBps);
}
