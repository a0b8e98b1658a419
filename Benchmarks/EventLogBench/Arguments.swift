// The command line, parsed by hand because the package takes no dependencies:
// `eventlog-bench [--quick] [--dir DIR] [--json FILE] [--svg DIR] [--row NAME]...`.

/// What the user asked for.
struct BenchmarkArguments: Sendable {
    var quick = false
    /// The folder to make the scratch folder in; nil for the system temp folder.
    var directory: String?
    var jsonPath = "benchmark-results.json"
    /// The folder to write the SVG plots in; nil for no plots (and no sweep).
    var svgDirectory: String?
    /// Rows to run; empty for all.
    var rowNames: [String] = []
    var showHelp = false

    static let helpText = """
        Usage: eventlog-bench [--quick] [--dir DIR] [--json FILE] [--svg DIR] [--row NAME]...

        Measures the EventLog store against raw-disk baselines taken in the same run
        and folder, and prints a table (stdout) and progress (stderr).

          --quick      Short run for CI and laptops (under 2 minutes on 2 cores, with
                       the first build of the 2M open store; the first build of the
                       compaction rows' stores adds about 20 s): append rows run 1 s per
                       round instead of 3 s, and so do subscribe-live-latency and
                       mixed; read-all, readall-view and subscribe-catchup scan
                       200,000 events instead of 1,000,000; open-10m and open-10m-rss use 2,000,000 events
                       instead of 10,000,000; compact compacts 200,000 events instead
                       of 1,000,000, and append-durable-c16-compacting's compaction
                       works on 8,000,000 instead of 24,000,000 (their notes say so;
                       names stay).
          --dir DIR    Make the scratch folder inside DIR (it must exist) instead of
                       the system temp folder. Only the scratch folder is removed; the
                       large open store and the compaction rows' stores are kept beside
                       it (see below).
          --json FILE  Write the results as JSON to FILE (default: benchmark-results.json
                       in the current folder). An array of rows: name, events, seconds,
                       eventsPerSecond, p50Microseconds, p99Microseconds, p999Microseconds,
                       baselineEventsPerSecond, ratioToBaseline, and the added fields
                       eventsPerSync, residentMemoryBytes and note (null where a row has
                       none).
          --svg DIR    Also write two plots into DIR (made if missing), plain SVG:
                       latency-percentiles.svg (p50 to p99.99 of each append row) and
                       throughput-vs-concurrency.svg (append-durable with 1, 4, 16, 64
                       and 256 appenders beside the raw disk at the same events per
                       sync). Runs the extra points append-durable-c4 and -c256 (and any
                       of c1, c16, c64 that --row left out); they appear in the table.
          --row NAME   Run only this row (repeatable).
          --help       Show this text.

        Rows (events carry 100 bytes of data unless said; append rows run 3 rounds
        alternating with their baseline; the table shows the median round's events,
        seconds and events/s, the median baseline, and latency percentiles of all
        rounds merged):
          append-durable-c1        .fsync, 1 appender, 1 event per call
          append-durable-c1-1k     .fsync, 1 appender, 1 event per call, 1,000-byte data
          append-durable-c1-lone   as append-durable-c1, with StoreOptions
                                   .loneAppenderWritesOnItsThread on (the appender
                                   writes and syncs its own calls)
          append-durable-c1-1k-lone  as append-durable-c1-1k, with that option on
          append-durable-c16       .fsync, 16 concurrent appenders, own stream each
          append-durable-c64       .fsync, 64 concurrent appenders, own stream each
          append-durable-batch100  .fsync, 1 appender, 100 events per call
          append-batched-c64       .batched(maxDelay: 2 ms), 64 concurrent appenders
          append-nosync-c1         .none, 1 appender, 1 event per call
          append-nosync-c1-lone    as append-nosync-c1, with that option on (the
                                   same under .none, where a lone appender writes
                                   its own calls by default)
          read-all                 forEachEvent over the whole log, checksums verified
          readall-view             forEachEventView over the same store, touching only
                                   each event's position and data length; the note
                                   gives read-all's events/s in the same rounds
                                   (target: above read-all)
          subscribe-catchup        subscribeToAll(from: 1) over the same store, iterated
                                   to the last position (target >= 3,000,000 events/s)
          read-stream              readStream of hot-1 (10,000 events, one every ~100th
                                   position of 999,901 in 10,000 streams) forward;
                                   p50/p99/p99.9 = time to the first event (maxCount 1)
          read-stream-backward     the same from the stream's end, backward
          open-100k                FileEventStore.open of 100,000 events in 100,000
                                   streams after a clean close; p50 = median, p99 =
                                   slowest of 7 opens (µs); seconds = median open
          open-10m                 the same with 10,000,000 events
          open-10m-rss             open the 10m store and read 1,000 random streams
                                   whole: events/s and percentiles are of those reads;
                                   the note gives VmRSS after the open and after the
                                   reads (target < 256 MiB)
          subscribe-live-latency   1 appender (.fsync, the default; 1 event per call)
                                   for 3 s (--quick: 1 s) with 1 subscriber following
                                   live from the end; p50/p99/p99.9 = from the append's
                                   acknowledgement (its await returning) to the
                                   subscriber receiving the event, 0 when the
                                   subscriber had it first (target p99 < 1 ms)
          mixed                    8 appenders (.fsync, own stream each), 8 readers
                                   (threads, readStream of random 50-event streams)
                                   and 1 live subscriber at once, 3 rounds of 3 s
                                   (--quick: 1 s) alternating with the 8 appenders
                                   alone (the baseline); events/s and percentiles are
                                   the appenders'; the note gives readers' reads/s and
                                   p99, the subscriber's events/s and lag at the end
                                   (target ratio >= 0.8)
          load-aggregate-nosnapshot
                                   Repository<Order>.load of one Order of 10,000
                                   events (OrderExample), replaying every event;
                                   40 loads (--quick: 12); events/s = the order's
                                   events rehydrated per second, p50/p99 per load,
                                   loads/s in the note
          load-aggregate-snapshot  the same from a snapshot at version 9,900 plus
                                   100 events; 1,000 loads (--quick: 300); the note
                                   gives the p50 speedup (target >= 20x) over the
                                   no-snapshot loads, which run for it even when
                                   only this row is selected
          compact                  FileEventStore.compact() of 1,000,000 events in
                                   10,000 streams of 100 (--quick: 200,000 in 2,000),
                                   appended round-robin, then 9 streams in 10
                                   hard-deleted: 90% of the events in every segment;
                                   3 rounds, each on a fresh working copy of a kept
                                   store, warm file cache; events/s = events compacted
                                   per second (time of the compact() call, sealing the
                                   active segment included); the note gives MB/s of
                                   log read (report.bytesRead / that time, MB = 10^6
                                   bytes; target >= 200 MB/s), bytes reclaimed and
                                   events removed
          append-durable-c16-compacting
                                   append-durable-c16 (the same 16 appenders, rounds
                                   and percentiles) measured while a compaction of a
                                   large store with 90% deleted events runs in the same
                                   store, process and disk: 24,000,000 events in 10,000
                                   streams of 2,400 (--quick: 8,000,000 in 2,000), 9 in
                                   10 hard-deleted, a fresh working copy each round.
                                   The appenders start once compaction has sealed the
                                   active segment and begun, and stop after the round's
                                   time or as soon as compaction returns; the note says
                                   whether compaction ran through every round's whole
                                   window and how far it got. Baseline = the
                                   append-durable-c16 row of the same run (run for the
                                   ratio, not reported, if not selected); target ratio
                                   >= 0.7
        Write baselines: pwrite + fdatasync with the events per sync the row achieved
        (no sync for .none; for .batched, writes the size of the store's batches and an
        fdatasync every 2 ms). Read-all baseline (also readall-view's and
        subscribe-catchup's): sequential 1 MiB preads of the segment files. Mixed
        baseline: the same appenders alone on the same store. Read-stream baseline: one
        pread per record of the stream at its offset. Compact baseline: the same segment
        bytes read in 1 MiB preads, and as many bytes as compaction keeps written to one
        new file, one fsync at the end (run before each round's compaction, which
        replaces the files it reads). append-durable-c16-compacting: see above.
        subscribe-live-latency has none.
        Percentiles: per append call in the append rows (append-durable-c16-compacting
        too) and mixed; time to the first
        event in read-stream rows; open times in open rows; per whole-stream read in
        open-10m-rss; per load in load-aggregate rows; acknowledgement to subscriber
        in subscribe-live-latency; read-all, readall-view, subscribe-catchup and compact
        have none.
        RSS MiB / residentMemoryBytes: the process's peak resident memory (VmHWM) while
        the row ran, reset before each row (after returning freed heap with malloc_trim);
        it includes what earlier rows left resident (the progress lines give each row's
        starting point). Target: under 256 MiB in every row.
        The open-10m store is built once (durability .none, 1,000 events per call, about
        20 s at 500,000 events/s) and kept in DIR/eventlog-bench-open-10m (--quick:
        -2m; DIR is --dir, else the temp folder) with a marker file; it is rebuilt when
        the marker is missing or different, or the store fails to open. Delete that
        folder to reclaim its disk space (about 2 GB for 10m, 0.4 GB for 2m).
        The compaction rows' stores are kept the same way, with their deletions done,
        in DIR/eventlog-bench-compact-1m and -24m (--quick: -200k and -8m; about 0.2
        and 4.9 GB, 0.07 and 1.7 GB). Their first build is a no-sync build (about
        2 s and 60 s on the project's machine) and one deleteStreams call for the
        9,000 streams (1,800 with --quick). Each round works on a copy in the scratch folder whose sealed
        segments and index files are hard links to the kept ones (the store replaces
        those files whole, never writes them in place; a check after each round
        discards the kept store if one changed) and whose other files are copied.
        """

    static let rowNamesKnown = AppendRowSpec.all(quick: true).map(\.name) + ReadAllRow.names
        + ReadStreamRows.names + OpenRows.names + [LiveLatencyRow.name, MixedRow.name] + LoadAggregateRows.names
        + [CompactRow.name, CompactingAppendRow.name]

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
            case "--svg": parsed.svgDirectory = try value(after: argument)
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
