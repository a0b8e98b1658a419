// The tool explains itself, and a usage mistake is a message and exit status 2,
// never a crash.
import Foundation
import Testing

@Suite struct UsageTests {
    @Test(arguments: [
        ["--help"], ["help"], ["demo", "--help"], ["append", "--help"], ["read", "--help"], ["verify", "--help"],
        ["stats", "--help"], ["inspect", "--help"], ["export", "--help"], ["import", "--help"],
        ["help", "append"], ["help", "--help"], ["read", "-h"], ["help", "import"],
        ["tail", "--help"], ["delete-stream", "--help"], ["truncate", "--help"], ["repair", "--help"], ["help", "tail"],
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
        for command in [
            "demo", "append", "read", "tail", "stats", "inspect", "verify", "repair", "delete-stream", "truncate", "export",
            "import", "help",
        ] {
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
        (["import", "--store", "x", "--segment-size", "65535"], "'--segment-size 65535' is outside"),
        (["import", "--store", "x", "--segment-size", "64k"], "'--segment-size 64k' is not a whole number"),
        (["read", "--store", "x", "--backward=yes"], "flag '--backward' takes no value"),
        (["read", "--store", "x", "--backward", "--backward"], "flag '--backward' is given twice"),
        (["read", "--store", "x", "--category", "--type", "A"], "flag '--category' needs a value"),
        (["stats", "--store", "x", "--json=true"], "flag '--json' takes no value"),
        (["stats"], "missing required flag '--store'"),
        (["stats", "--store", "x", "--limit", "3"], "unknown flag '--limit'"),
        (["inspect", "--store", "x"], "missing required flag '--position'"),
        (["inspect", "--store", "x", "--position", "first"], "'--position first' is not a whole number"),
        (["export", "--store", "x", "--from", "-3"], "'--from -3' is not a whole number"),
        (["export", "--store", "x", "--json"], "unknown flag '--json'"),
        (["import"], "missing required flag '--store'"),
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

    @Test(arguments: [["append", "--stream", "order-1"], ["import"], ["demo"]])
    func segmentSizeBelowTheMinimumCreatesNoStore(command: [String]) async throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let result = try await EventLogProcess.run(
            command + ["--store", folder.store, "--segment-size", "65535"],
            lines: [#"{"type":"OrderCreated","data":{}}"#], in: folder)
        #expect(result.status == 2, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: folder.store))
    }
}
