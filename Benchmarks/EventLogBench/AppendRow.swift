// An append row end to end: three rounds, each the row on a fresh store and then
// the raw-disk baseline at the events per sync that round achieved.
import Foundation

enum AppendRow {
    static let rounds = 3

    /// Runs `spec` in folders under `scratchDirectory`, removing each once measured.
    static func run(_ spec: AppendRowSpec, scratchDirectory: String) async throws -> RowResult {
        var results: [RoundResult] = []
        for round in 1...rounds {
            let storeDirectory = "\(scratchDirectory)/\(spec.name)-\(round)"
            let measured = try await AppendRound.measure(spec, directory: storeDirectory)
            try FileManager.default.removeItem(atPath: storeDirectory)

            // Alternating row and baseline round by round keeps a slow spell of the
            // shared machine from landing on one side only.
            let baselinePath = "\(scratchDirectory)/\(spec.name)-\(round).baseline"
            let baseline = try WriteBaseline.run(
                path: baselinePath, events: measured.events, recordSizeBytes: spec.recordSizeBytes,
                plan: spec.baselinePlan(for: measured))
            try FileManager.default.removeItem(atPath: baselinePath)

            results.append(RoundResult(
                events: measured.events, seconds: measured.seconds, latency: measured.latency, baseline: baseline,
                eventsPerSync: measured.eventsPerSync))
            let perSync = measured.eventsPerSync.map { NumberFormatting.decimal($0, decimals: 1) } ?? "-"
            Progress.log(
                "  \(spec.name) round \(round)/\(rounds): \(NumberFormatting.grouped(measured.events)) events in "
                    + "\(NumberFormatting.decimal(measured.seconds, decimals: 2)) s = "
                    + "\(NumberFormatting.grouped(measured.eventsPerSecond)) events/s, \(perSync) events/sync; "
                    + "baseline \(NumberFormatting.grouped(baseline.eventsPerSecond)) events/s")
        }
        var row = RowResult(name: spec.name, rounds: results)
        var notes: [String] = []
        if spec.dataSizeBytes != BenchmarkEventFactory.dataSizeBytes {
            notes.append("\(NumberFormatting.grouped(spec.dataSizeBytes))-byte event data")
        }
        if spec.loneAppenderWritesOnItsThread {
            notes.append(spec.durability == .none
                ? "StoreOptions.loneAppenderWritesOnItsThread on, which changes nothing under .none: a lone appender writes its own calls there by default"
                : "StoreOptions.loneAppenderWritesOnItsThread on: the appender writes its own calls")
        }
        if !notes.isEmpty { row.note = notes.joined(separator: "; ") }
        return row
    }
}
