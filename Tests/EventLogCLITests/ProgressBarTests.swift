// The progress line of long commands: drawn on standard error when it is a
// terminal (a pseudo-terminal here), and absent when it is a pipe or a file.
import EventLog
import EventSourcing
import Foundation
import Testing

@testable import EventLogCLI

@Suite struct ProgressBarTests {
    /// Enough events that exporting them outlasts the bar's first 100 ms even in
    /// a release build (about 0.25 s there, several seconds in a debug build).
    static let largeStoreEvents = 150_000

    private func makeLargeStore(in folder: TemporaryDirectory) async throws {
        try await StoreFixture.write(in: folder, segmentSizeBytes: 64 * 1024 * 1024) { store in
            let padding = String(repeating: "x", count: 100)
            for call in 0..<(Self.largeStoreEvents / 1_000) {
                let events = (0..<1_000).map { StoreFixture.event("Tick", #"{"n":\#(call * 1_000 + $0),"padding":"\#(padding)"}"#) }
                try await store.append(events, to: try StreamName("clock-\(call % 10)"), expectedVersion: .any)
            }
        }
    }

    @Test func theLineShowsTheBarPercentCountRateAndTimeLeft() {
        let line = ProgressBar.render(done: 500, fraction: 0.5, elapsed: .seconds(2), unit: "events")
        #expect(line == "[############------------]  50%  500 events  250 events/s  0:02 left")
        let done = ProgressBar.render(done: 1_000, fraction: 1, elapsed: .seconds(4), unit: "events")
        #expect(done == "[########################] 100%  1000 events  250 events/s")
        let unknownTotal = ProgressBar.render(done: 123_456, fraction: nil, elapsed: .milliseconds(500), unit: "events")
        #expect(unknownTotal == "123456 events  246.9k events/s")
    }

    @Test func exportDrawsAProgressLineOnATerminalAndClearsIt() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeLargeStore(in: folder)
        let started = ContinuousClock.now
        let (status, bytes) = try await StandardErrorCapture.run(
            ["export", "--store", folder.store], standardErrorOn: .terminal, in: folder)
        let elapsed = ContinuousClock.now - started
        #expect(status == 0)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("\r["), "\(text.debugDescription)")
        #expect(text.contains("%  "), "\(text.debugDescription)")
        #expect(text.contains(" events/s"), "\(text.debugDescription)")
        #expect(text.contains(" left"), "\(text.debugDescription)")
        // Redrawn in place, never on a new line, and blanked at the end.
        #expect(!text.contains("\n"), "\(text.debugDescription)")
        #expect(text.hasSuffix(" \r"), "\(text.debugDescription)")
        let draws = text.split(separator: "\r").filter { $0.contains("events/s") }
        #expect(draws.count >= 1)
        #expect(draws.count <= Int(elapsed / .milliseconds(100)) + 1, "at most ten a second: \(draws.count) in \(elapsed)")
    }

    @Test func exportAndVerifyWriteNothingElseToAPipeOrAFile() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeLargeStore(in: folder)
        let (status, bytes) = try await StandardErrorCapture.run(
            ["export", "--store", folder.store], standardErrorOn: .pipe, in: folder)
        #expect(status == 0)
        #expect(bytes.isEmpty, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
        let toFile = try await EventLogProcess.run(["export", "--store", folder.store], in: folder)
        #expect(toFile.status == 0)
        #expect(toFile.standardError.isEmpty, "\(toFile.standardError.debugDescription)")
        let verify = try await EventLogProcess.run(["verify", "--store", folder.store], in: folder)
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.standardError.isEmpty, "\(verify.standardError.debugDescription)")
    }

    @Test func compactDrawsAProgressLineOnATerminalAndNothingOnAPipe() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await makeLargeStore(in: folder)
        try await StoreFixture.write(in: folder) { store in
            for stream in 1...8 { try await store.deleteStream(try StreamName("clock-\(stream)"), expectedVersion: .any, hard: true) }
        }
        let (status, bytes) = try await StandardErrorCapture.run(
            ["compact", "--store", folder.store], standardErrorOn: .terminal, in: folder)
        #expect(status == 0)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("\r["), "\(text.debugDescription)")
        #expect(text.contains(" MB/s"), "\(text.debugDescription)")
        #expect(!text.contains("\n") && text.hasSuffix(" \r"), "\(text.debugDescription)")

        try await StoreFixture.write(in: folder) { store in
            try await store.deleteStream("clock-9", expectedVersion: .any, hard: true)
        }
        let (pipedStatus, piped) = try await StandardErrorCapture.run(
            ["compact", "--store", folder.store], standardErrorOn: .pipe, in: folder)
        #expect(pipedStatus == 0)
        #expect(piped.isEmpty, "\(String(decoding: piped, as: UTF8.self).debugDescription)")
    }

    @Test func anOpenThatRebuildsIndexFilesDrawsAProgressLineOnATerminalOnly() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        try await StoreFixture.write(in: folder, segmentSizeBytes: 1 << 20) { store in
            let padding = String(repeating: "x", count: 100)
            for call in 0..<(Self.largeStoreEvents / 1_000) {
                let events = (0..<1_000).map { StoreFixture.event("Tick", #"{"n":\#(call * 1_000 + $0),"padding":"\#(padding)"}"#) }
                try await store.append(events, to: try StreamName("clock-\(call % 10)"), expectedVersion: .any)
            }
        }
        func removeIndexFiles() throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.store) where name.hasSuffix(".idx") {
                try FileManager.default.removeItem(atPath: folder.store + "/" + name)
            }
        }
        try removeIndexFiles()
        let (status, bytes) = try await StandardErrorCapture.run(
            ["stats", "--store", folder.store], standardErrorOn: .terminal, in: folder)
        #expect(status == 0)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("\r["), "\(text.debugDescription)")
        #expect(text.contains(" segments/s"), "\(text.debugDescription)")
        #expect(!text.contains("\n") && text.hasSuffix(" \r"), "\(text.debugDescription)")

        try removeIndexFiles()
        let piped = try await EventLogProcess.run(["stats", "--store", folder.store], in: folder)
        #expect(piped.status == 0, "\(piped)")
        #expect(piped.standardError.isEmpty, "\(piped.standardError.debugDescription)")
    }

    /// Export lines of `count` events over ten streams, taking turns.
    private func importLines(_ count: Int) -> [String] {
        (0..<count).map { number in
            #"{"stream":"clock-\#(number % 10)","version":\#(number / 10 + 1),"id":"\#(UUID().uuidString)","type":"Tick","isJSON":true,"data":{"n":\#(number)}}"#
        }
    }

    @Test func importFromAFileShowsHowFarThroughTheFileItIs() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let inputPath = folder.file("input.jsonl")
        try Data(importLines(30_000).map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: inputPath))
        let (status, bytes) = try await StandardErrorCapture.run(
            ["import", "--store", folder.store], inputPath: inputPath, standardErrorOn: .terminal, in: folder)
        #expect(status == 0)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("\r["), "\(text.debugDescription)")
        #expect(text.contains("%  ") && text.contains(" events/s"), "\(text.debugDescription)")
        // The line is blanked before the summary, which so starts at the left edge.
        #expect(text.contains(" \reventlog: imported 30000 events in 10 streams in "), "\(text.debugDescription)")
    }

    @Test func importWritesOnlyItsSummaryToAFile() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let imported = try await EventLogProcess.run(["import", "--store", folder.store], lines: importLines(30_000), in: folder)
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.standardError.hasPrefix("eventlog: imported 30000 events in 10 streams in "), "\(imported)")
        #expect(!imported.standardError.contains("\r") && imported.standardError.split(separator: "\n").count == 1)
    }
}
