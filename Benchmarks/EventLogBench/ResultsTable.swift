// The table on stdout: one line per row, the columns of the JSON file's fields,
// then each row's note (too long for a column).

enum ResultsTable {
    private static let headers = [
        "name", "events", "events/s", "p50 µs", "p99 µs", "p99.9 µs", "baseline events/s", "ratio", "RSS MiB",
    ]

    /// The rows as aligned text: the name left-aligned, the numbers right-aligned.
    static func render(_ rows: [RowResult]) -> String {
        let cells = rows.map { row in
            [
                row.name,
                NumberFormatting.grouped(row.events),
                NumberFormatting.grouped(row.eventsPerSecond),
                NumberFormatting.optional(row.p50Microseconds, decimals: 1),
                NumberFormatting.optional(row.p99Microseconds, decimals: 1),
                NumberFormatting.optional(row.p999Microseconds, decimals: 1),
                row.baselineEventsPerSecond.map { NumberFormatting.grouped($0) } ?? "-",
                row.ratioToBaseline.map { NumberFormatting.decimal($0, decimals: 2) + "x" } ?? "-",
                row.residentMemoryBytes.map { NumberFormatting.decimal(Double($0) / 1_048_576, decimals: 1) } ?? "-",
            ]
        }
        let widths = headers.indices.map { column in
            ([headers[column]] + cells.map { $0[column] }).map(\.count).max()!
        }
        func line(_ values: [String]) -> String {
            values.enumerated().map { column, value in
                let padding = String(repeating: " ", count: widths[column] - value.count)
                return column == 0 ? value + padding : padding + value
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        var notes = rows.compactMap { row in row.note.map { "  \(row.name): \($0)" } }
        if let largest = rows.filter({ $0.residentMemoryBytes != nil }).max(by: { $0.residentMemoryBytes! < $1.residentMemoryBytes! }) {
            let bytes = largest.residentMemoryBytes!
            notes.append("  RSS: largest peak \(ResidentMemory.mebibytes(bytes)) (\(largest.name)); target < 256 MiB in every row: "
                + (bytes < ResidentMemory.targetBytes ? "met" : "MISSED"))
        }
        return ([line(headers), rule] + cells.map(line) + (notes.isEmpty ? [] : ["notes:"] + notes))
            .joined(separator: "\n")
    }
}
