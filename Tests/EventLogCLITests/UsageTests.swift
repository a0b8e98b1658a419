// The tool explains itself, and a usage mistake is a message and exit status 2,
// never a crash.
import Foundation
import Testing

@Suite struct UsageTests {
    @Test(arguments: [
        ["--help"], ["help"], ["demo", "--help"], ["append", "--help"], ["read", "--help"], ["verify", "--help"],
        ["help", "append"], ["help", "--help"], ["read", "-h"],
    ])
    func helpExitsZeroWithAUsageLineAndAnExample(arguments: [String]) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(arguments, in: folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput.contains("Usage: eventlog"))
        #expect(result.standardOutput.contains("Example"))
        #expect(result.standardError.isEmpty)
    }

    @Test func theCommandListNamesEveryCommand() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(["--help"], in: folder)
        for command in ["demo", "append", "read", "verify", "help"] {
            #expect(result.standardOutput.contains("  \(command) "), "\(command) missing from:\n\(result.standardOutput)")
        }
    }

    @Test(arguments: [
        (["frobnicate"], "unknown command 'frobnicate'"),
        ([], "no command given"),
        (["help", "frobnicate"], "unknown command"),
        (["read", "--store", "x", "--bogus", "1"], "unknown flag '--bogus'"),
        (["read"], "missing required flag '--store'"),
        (["read", "--store"], "flag '--store' needs a value"),
        (["read", "--store", "x", "--limit", "ten"], "'--limit ten' is not a whole number"),
        (["read", "--store", "x", "--from", "-1"], "'--from -1' is not a whole number"),
        (["read", "--store", "x", "--stream", "--limit", "3"], "flag '--stream' needs a value"),
        (["read", "--store", "x", "--limit", "+5"], "'--limit +5' is not a whole number"),
        (["read", "--store", "x", "--store", "y"], "given twice"),
        (["verify", "--store", "x", "extra"], "unexpected argument 'extra'"),
        (["append", "--store", "x"], "missing required flag '--stream'"),
        (["append", "--store", "x", "--stream", "s", "--expected-version", "sometimes"], "'--expected-version sometimes'"),
        (["append", "--store", "x", "--stream", "s", "--segment-size", "65535"], "'--segment-size 65535' is outside"),
        (["demo", "--segment-size", "1024"], "'--segment-size 1024' is outside"),
    ])
    func usageMistakeExitsTwoWithAMessageAndAHint(arguments: [String], message: String) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        // Relative store paths resolve against the test's working folder; none of
        // these runs gets far enough to create anything.
        let result = try await EventLogProcess.run(arguments, in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(result.standardError.hasPrefix("eventlog: error: "), "\(result)")
        #expect(result.standardError.contains(message), "\(result)")
        #expect(result.standardError.contains("--help"), "\(result)")
        #expect(result.standardOutput.isEmpty)
        #expect(!result.showsCrash)
    }

    @Test func segmentSizeBelowTheMinimumCreatesNoStore() async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(
            ["append", "--store", folder.store, "--stream", "order-1", "--segment-size", "65535"],
            lines: [#"{"type":"OrderCreated","data":{}}"#], in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: folder.store))
    }
}
