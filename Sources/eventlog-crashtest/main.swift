// eventlog-crashtest: runs the crash-test driver (simulated power losses and
// process crashes at random I/O calls, each followed by recovery and a check
// against the workload's model) for many seeded iterations. Thin: the logic is
// `CrashTest` in the engine, which the test suite runs too.
@_spi(Testing) import EventLog
import Foundation

let usage = """
    usage: eventlog-crashtest [--compaction] [--iterations N] [--seed S] [--iteration I]

      --compaction     crash compactions instead of appends (see below)
      --iterations N   iterations to run (default 1000)
      --seed S         the run's seed (default: from the clock; printed either way)
      --iteration I    run only iteration I of the seed (to replay a failure)

    Each iteration runs a random workload on a simulated disk, crashes it at a random
    I/O call (power loss or process crash), reopens the store and checks every
    acknowledged event; then appends, crashes and checks again. With --compaction,
    the workload appends, deletes, truncates and limits streams, and the crash falls
    inside a compaction; the reopened store must answer every read as before it,
    verify healthy, take appends and compact again. Exits 1 on the first failure,
    printing its seed and iteration.

    Example: eventlog-crashtest --iterations 10000 --seed 20261123
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("eventlog-crashtest: \(message)\n\n\(usage)\n".utf8))
    exit(2)
}

var iterations = 1000
var seed = UInt64(Date().timeIntervalSince1970 * 1000)
var onlyIteration: Int?
var compaction = false
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--iterations":
        guard let text = arguments.popFirst(), let value = Int(text), value >= 0 else { fail("--iterations needs a count") }
        iterations = value
    case "--seed":
        guard let text = arguments.popFirst(), let value = UInt64(text) else { fail("--seed needs a whole number") }
        seed = value
    case "--iteration":
        guard let text = arguments.popFirst(), let value = Int(text), value >= 0 else { fail("--iteration needs a number") }
        onlyIteration = value
    case "--compaction":
        compaction = true
    case "--help", "-h":
        print(usage)
        exit(0)
    default:
        fail("unknown argument '\(flag)'")
    }
}

let first = onlyIteration ?? 0
let count = onlyIteration == nil ? iterations : 1
print("eventlog-crashtest: \(compaction ? "compaction, " : "")seed \(seed), iterations \(first)..<\(first + count)")
let started = Date()
if compaction {
    let summary = await CompactionCrashTest.run(iterations: count, seed: seed, firstIteration: first)
    let seconds = Date().timeIntervalSince(started)
    if let failure = summary.failure {
        print("FAILED at iteration \(failure.iteration) (replay: eventlog-crashtest --compaction --seed \(seed) --iteration \(failure.iteration)):\n\(failure.problem)")
        exit(1)
    }
    print(
        "\(summary.iterations) iterations in \(String(format: "%.1f", seconds)) s: \(summary.crashesDuringCompaction) crashes inside a compaction "
            + "(\(summary.powerLosses) power losses, the rest process crashes), \(summary.eventsRemoved) events removed, "
            + "\(summary.readsCompared) reads compared after recovery, 0 differences")
    exit(0)
}
let step = max(count / 10, 1)
let summary = await CrashTest.run(
    iterations: count, seed: seed, firstIteration: first,
    progress: { iteration, summary in
        if (iteration - first + 1) % step == 0 && count >= 100 {
            print("  \(iteration - first + 1) iterations, \(summary.crashes) crashes (\(Int(Date().timeIntervalSince(started))) s)")
        }
    })
let seconds = Date().timeIntervalSince(started)
if let failure = summary.failure {
    print("FAILED after \(summary.iterations) iteration(s):\n\(failure)")
    exit(1)
}
print(
    "\(summary.iterations) iterations in \(String(format: "%.1f", seconds)) s: \(summary.calls) append calls, "
        + "\(summary.acknowledgedEvents) acknowledged events checked, \(summary.crashesDuringWorkload) first crashes during the workload, "
        + "\(summary.powerLosses) iterations starting with a power loss")
print("\(summary.crashes) simulated crashes, 0 acknowledged events lost")
