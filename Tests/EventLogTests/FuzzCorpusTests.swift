import Foundation
import Testing

@_spi(Fuzzing) @testable import EventLog

/// Replays the committed fuzz corpus and every past crash through the fuzz target
/// bodies, so a regression in a decoder fails `swift test`, not only a fuzz run.
@Suite struct FuzzCorpusTests {
    static let fuzzFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz").path

    static func inputs(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { !$0.hasPrefix(".") }.map { folder + "/" + $0 }
    }

    @Test(arguments: FuzzTargets.all.keys.sorted())
    func corpusAndPastCrashesReplayCleanly(target: String) throws {
        let body = try #require(FuzzTargets.all[target])
        let corpus = Self.inputs(Self.fuzzFolder + "/Corpus/" + target)
        #expect(!corpus.isEmpty, "Fuzz/Corpus/\(target) holds the seed inputs")
        for path in corpus + Self.inputs(Self.fuzzFolder + "/Crashes/" + target) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes.withUnsafeBytes { body($0) }
        }
    }

    @Test(arguments: FuzzTargets.all.keys.sorted())
    func seedsDecodeAndSurviveEveryTruncation(target: String) throws {
        let body = try #require(FuzzTargets.all[target])
        for seed in FuzzTargets.seeds()[target] ?? [] {
            for cut in 0...seed.count { seed.prefix(cut).withUnsafeBytes { body($0) } }
        }
    }

    @Test func theSeedCorpusMatchesTheCurrentEncoders() throws {
        // A format change must come with fresh seeds (and a format version bump).
        for (target, seeds) in FuzzTargets.seeds() {
            for (index, seed) in seeds.enumerated() {
                let path = Self.fuzzFolder + "/Corpus/\(target)/seed-\(index)"
                if ProcessInfo.processInfo.environment["EVENTLOG_WRITE_FUZZ_SEEDS"] == "1" {
                    try Data(seed).write(to: URL(fileURLWithPath: path))
                }
                #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == seed, "\(path)")
            }
        }
    }
}
