// Failures of the benchmark itself (not the store's): a message for the person
// running it, printed before the program exits with status 1.

/// A benchmark failure, described in words.
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
