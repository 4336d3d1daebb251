using System.CommandLine;
using System.CommandLine.Parsing;
using Cairn.Bench;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn bench WORKLOAD [options]</c>: the load generator of <c>bench/Cairn.Bench</c>. Everything after <c>bench</c> is
/// passed on unchanged, so its workloads, options and help are the same as when it runs on its own.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var arguments = new Argument<string[]>("arguments")
        {
            Description = "The workload (latency, throughput, recovery, size, memory) and its options; 'cairn bench WORKLOAD --help' lists them",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("bench", "Measure the engine: latency, throughput, recovery, size and memory workloads") { arguments };
        command.TreatUnmatchedTokensAsErrors = false;

        // The workloads' help comes from the load generator: a help option of this command keeps cairn's own from answering.
        command.Options.Add(new Option<bool>("--help", "-h", "-?") { Hidden = true });
        command.SetAction((parse, _) => BenchProgram.RunAsync(Forwarded(parse)));
        return command;
    }

    private static string[] Forwarded(ParseResult parse)
    {
        var tokens = parse.Tokens;
        var bench = 0;
        while (bench < tokens.Count && !(tokens[bench].Type == TokenType.Command && tokens[bench].Value == "bench"))
        {
            bench++;
        }

        // 'cairn bench -- latency ...' is 'cairn bench latency ...'.
        var rest = tokens.Skip(bench + 1).ToList();
        if (rest is [{ Type: TokenType.DoubleDash }, ..])
        {
            rest.RemoveAt(0);
        }

        return [.. rest.Select(t => t.Value)];
    }
}
