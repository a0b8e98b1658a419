// eventlog-bench: the store's throughput and latency against raw-disk baselines
// measured in the same run and folder. Thin: parses, runs the rows, reports.
import Foundation

let arguments: BenchmarkArguments
do {
    arguments = try BenchmarkArguments.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    Progress.log("eventlog-bench: \(error)\n\n\(BenchmarkArguments.helpText)")
    exit(2)
}
if arguments.showHelp {
    Report.print(BenchmarkArguments.helpText)
    exit(0)
}

let scratch: ScratchDirectory
do {
    scratch = try ScratchDirectory.create(in: arguments.directory)
} catch {
    Progress.log("eventlog-bench: \(error)")
    exit(1)
}

let machine = MachineDescription.describe(directory: scratch.path)
Report.print("machine: \(machine)")
let runStarted = MonotonicClock.nanoseconds()
var results: [RowResult] = []
var sweep: [RowResult] = []
do {
    for spec in AppendRowSpec.all(quick: arguments.quick) where arguments.selects(spec.name) {
        Progress.log("\(spec.name): \(AppendRow.rounds) rounds of \(spec.targetNanoseconds / 1_000_000) ms")
        results.append(try await ResidentMemory.measuring { try await AppendRow.run(spec, scratchDirectory: scratch.path) })
    }
    if arguments.svgDirectory != nil {
        // The throughput plot's points: rows already run are reused, the rest run here.
        for appenders in AppendRowSpec.sweepAppenderCounts {
            let spec = AppendRowSpec.durable(appenders: appenders, quick: arguments.quick)
            if let row = results.first(where: { $0.name == spec.name }) {
                sweep.append(row)
                continue
            }
            Progress.log("\(spec.name) (--svg sweep): \(AppendRow.rounds) rounds of \(spec.targetNanoseconds / 1_000_000) ms")
            var row = try await ResidentMemory.measuring { try await AppendRow.run(spec, scratchDirectory: scratch.path) }
            row.note = "extra point of the --svg throughput sweep"
            sweep.append(row)
            results.append(row)
        }
    }
    if ReadAllRow.names.contains(where: arguments.selects) {
        let eventCount = ReadAllRow.eventCount(quick: arguments.quick)
        Progress.log("\(ReadAllRow.names.filter(arguments.selects).joined(separator: ", ")): "
            + "\(NumberFormatting.grouped(eventCount)) events, \(ReadAllRow.rounds) rounds each")
        results += try await ReadAllRow.run(eventCount: eventCount, selects: arguments.selects, scratchDirectory: scratch.path)
    }
    if ReadStreamRows.names.contains(where: arguments.selects) {
        results += try await ReadStreamRows.run(selects: arguments.selects, scratchDirectory: scratch.path)
    }
    if OpenRows.names.contains(where: arguments.selects) {
        results += try await OpenRows.run(quick: arguments.quick, selects: arguments.selects, scratch: scratch)
    }
    if arguments.selects(LiveLatencyRow.name) {
        results.append(try await ResidentMemory.measuring {
            try await LiveLatencyRow.run(quick: arguments.quick, scratchDirectory: scratch.path)
        })
    }
    if arguments.selects(MixedRow.name) {
        results.append(try await ResidentMemory.measuring {
            try await MixedRow.run(quick: arguments.quick, scratchDirectory: scratch.path)
        })
    }
    if LoadAggregateRows.names.contains(where: arguments.selects) {
        results += try await LoadAggregateRows.run(
            quick: arguments.quick, selects: arguments.selects, scratchDirectory: scratch.path)
    }
    if arguments.selects(CompactRow.name) {
        results.append(try await CompactRow.run(quick: arguments.quick, scratch: scratch))
    }
    if arguments.selects(CompactingAppendRow.name) {
        let reference = results.first { $0.name == CompactingAppendRow.referenceName }
        results.append(try await CompactingAppendRow.run(quick: arguments.quick, scratch: scratch, reference: reference))
    }
} catch {
    Progress.log("eventlog-bench: \(error)")
    try? scratch.remove()
    exit(1)
}
do {
    try scratch.remove()
} catch {
    Progress.log("eventlog-bench: could not remove \(scratch.path): \(error)")
}

Report.print(ResultsTable.render(results))
let totalSeconds = MonotonicClock.seconds(from: runStarted, to: MonotonicClock.nanoseconds())
Progress.log("finished in \(NumberFormatting.decimal(totalSeconds, decimals: 1)) s")
do {
    try ResultsJSON.write(results, to: arguments.jsonPath)
    Progress.log("wrote \(arguments.jsonPath)")
} catch {
    Progress.log("eventlog-bench: could not write \(arguments.jsonPath): \(error)")
    exit(1)
}
if let svgDirectory = arguments.svgDirectory {
    do {
        let paths = try BenchmarkPlots.write(rows: results, sweep: sweep, machine: machine, directory: svgDirectory)
        Report.print("plots: " + paths.joined(separator: ", "))
    } catch {
        Progress.log("eventlog-bench: could not write the plots in \(svgDirectory): \(error)")
        exit(1)
    }
}
