// The command line, parsed by hand because the package takes no dependencies:
// `eventlog-bench [--quick] [--dir DIR] [--json FILE] [--row NAME]...`.

/// What the user asked for.
struct BenchmarkArguments: Sendable {
    var quick = false
    /// The folder to make the scratch folder in; nil for the system temp folder.
    var directory: String?
    var jsonPath = "benchmark-results.json"
    /// Rows to run; empty for all.
    var rowNames: [String] = []
    var showHelp = false

    static let helpText = """
        Usage: eventlog-bench [--quick] [--dir DIR] [--json FILE] [--row NAME]...

        Measures the EventLog store against raw-disk baselines taken in the same run
        and folder, and prints a table (stdout) and progress (stderr).

          --quick      Short run for CI and laptops (well under 2 minutes on 2 cores):
                       append rows run 1 s per round instead of 3 s; read-all scans
                       200,000 events instead of 1,000,000.
          --dir DIR    Make the scratch folder inside DIR (it must exist) instead of
                       the system temp folder. Only the scratch folder is removed.
          --json FILE  Write the results as JSON to FILE (default: benchmark-results.json
                       in the current folder). An array of rows: name, events, seconds,
                       eventsPerSecond, p50Microseconds, p99Microseconds, p999Microseconds,
                       baselineEventsPerSecond, ratioToBaseline (null where a row has none).
          --row NAME   Run only this row (repeatable).
          --help       Show this text.

        Rows (events carry 100 bytes of data; each row runs 3 rounds alternating with
        its baseline; the table shows the median round's events, seconds and events/s,
        the median baseline, and latency percentiles of all rounds merged):
          append-durable-c1        .fsync, 1 appender, 1 event per call
          append-durable-c16       .fsync, 16 concurrent appenders, own stream each
          append-durable-c64       .fsync, 64 concurrent appenders, own stream each
          append-durable-batch100  .fsync, 1 appender, 100 events per call
          append-nosync-c1         .none, 1 appender, 1 event per call
          read-all                 forEachEvent over the whole log, checksums verified
        Write baselines: pwrite + fdatasync with the events per sync the row achieved
        (no sync for .none). Read baseline: sequential 1 MiB preads of the segment files.
        Latency percentiles are per append call; read-all has none.
        """

    static let rowNamesKnown = AppendRowSpec.all(quick: true).map(\.name) + [ReadAllRow.name]

    /// Parses the arguments after the program name.
    static func parse(_ arguments: [String]) throws -> BenchmarkArguments {
        var parsed = BenchmarkArguments()
        var remaining = arguments[...]
        func value(after flag: String) throws -> String {
            guard let value = remaining.popFirst(), !value.hasPrefix("--") else {
                throw BenchmarkError("\(flag) needs a value")
            }
            return value
        }
        while let argument = remaining.popFirst() {
            switch argument {
            case "--quick": parsed.quick = true
            case "--dir": parsed.directory = try value(after: argument)
            case "--json": parsed.jsonPath = try value(after: argument)
            case "--row":
                let name = try value(after: argument)
                guard rowNamesKnown.contains(name) else {
                    throw BenchmarkError("unknown row '\(name)'; rows: \(rowNamesKnown.joined(separator: ", "))")
                }
                parsed.rowNames.append(name)
            case "--help", "-h": parsed.showHelp = true
            default: throw BenchmarkError("unknown argument '\(argument)'")
            }
        }
        return parsed
    }

    /// Whether the row named `name` should run.
    func selects(_ name: String) -> Bool { rowNames.isEmpty || rowNames.contains(name) }
}
