// The two `--svg` plots, made from the rows' results: how append latency grows
// into the tail, and how the durable append rate scales with concurrent appenders
// next to what the raw disk does at the same events per sync.
import Foundation

enum BenchmarkPlots {
    static let latencyFileName = "latency-percentiles.svg"
    static let throughputFileName = "throughput-vs-concurrency.svg"
    static let percentiles = [50, 90, 99, 99.9, 99.99]

    /// Writes both plots into `directory` (made if missing) and returns their paths.
    /// `sweep` holds the append-durable rows in ``AppendRowSpec/sweepAppenderCounts`` order.
    static func write(rows: [RowResult], sweep: [RowResult], machine: String, directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let charts = [
            (latencyFileName, latencyChart(rows: rows, machine: machine)),
            (throughputFileName, throughputChart(sweep: sweep, machine: machine)),
        ]
        return try charts.map { fileName, chart in
            let path = (directory as NSString).appendingPathComponent(fileName)
            try Data(chart.render().utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    /// Percentile curves of every row with per-call latencies (the append rows),
    /// on a "nines" x axis: p50, p90, p99, ... equally spaced (-log10 of the tail fraction).
    static func latencyChart(rows: [RowResult], machine: String) -> SVGLineChart {
        func nines(_ percentile: Double) -> Double { -log10(1 - percentile / 100) }
        let series = rows.compactMap { row -> SVGLineChart.Series? in
            guard let latency = row.latency, latency.count > 0 else { return nil }
            let points = percentiles.compactMap { percentile in
                latency.valueMicroseconds(atPercentile: percentile).map { (x: nines(percentile), y: $0) }
            }
            return SVGLineChart.Series(name: "\(row.name) (\(NumberFormatting.grouped(Int(latency.count))) calls)", points: points)
        }
        return SVGLineChart(
            title: "Append latency percentiles",
            subtitle: "per append call, all rounds merged; where 1 - percentile < 1/calls, the value is the slowest call",
            xAxisLabel: "percentile (\"nines\" scale)", yAxisLabel: "latency per append call (µs, log scale)",
            xTicks: percentiles.map { SVGLineChart.Tick(position: nines($0), label: "p" + percentileText($0)) },
            series: series, footnote: machine)
    }

    /// Durable append throughput by appender count, store and raw disk side by side.
    static func throughputChart(sweep: [RowResult], machine: String) -> SVGLineChart {
        let counts = AppendRowSpec.sweepAppenderCounts
        let pairs = zip(counts, sweep).map { (x: log2(Double($0)), row: $1) }
        let store = pairs.map { (x: $0.x, y: $0.row.eventsPerSecond) }
        let raw = pairs.compactMap { pair in pair.row.baselineEventsPerSecond.map { (x: pair.x, y: $0) } }
        let perSync = zip(counts, sweep).map { count, row in
            "\(count): \(row.eventsPerSync.map { NumberFormatting.decimal($0, decimals: 1) } ?? "-")"
        }.joined(separator: ", ")
        return SVGLineChart(
            title: "Durable append throughput vs concurrency",
            subtitle: "fsync durability, 1 event of 100 bytes per call, own stream per appender; events per sync: \(perSync)",
            xAxisLabel: "concurrent appenders (log2 scale)", yAxisLabel: "events per second (log scale)",
            xTicks: counts.map { SVGLineChart.Tick(position: log2(Double($0)), label: String($0)) },
            series: [
                SVGLineChart.Series(name: "EventLog append-durable-cN", points: store, labelsPoints: true),
                SVGLineChart.Series(
                    name: "raw pwrite + fdatasync, same events/sync", points: raw, isDashed: true, labelsPoints: true),
            ],
            footnote: machine)
    }

    /// `50`, `99.9`, `99.99`: no trailing zeros.
    private static func percentileText(_ percentile: Double) -> String {
        percentile.rounded() == percentile ? String(Int(percentile)) : String(percentile)
    }
}
