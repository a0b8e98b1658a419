// Plots as plain SVG text, so that `--svg` needs no plotting package: a line chart
// with a linear x axis (callers map x first, e.g. to "nines" or log2) and a
// log-scale y axis, since latencies and throughputs span several decades.
import Foundation

/// A line chart: title, axes with units, one line per series, a legend on the right.
struct SVGLineChart {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var isDashed = false
        /// Write each point's y value beside it.
        var labelsPoints = false
    }

    /// An x-axis tick: where (in the mapped x units the points use), and its text.
    struct Tick {
        var position: Double
        var label: String
    }

    var title: String
    var subtitle: String
    var xAxisLabel: String
    var yAxisLabel: String
    var xTicks: [Tick]
    var series: [Series]
    /// Small print under the chart: where the numbers come from.
    var footnote = ""

    private static let widthPixels = 980.0
    private static let heightPixels = 540.0
    private static let plotLeft = 90.0
    private static let plotRight = 640.0
    private static let plotTop = 70.0
    private static let plotBottom = 470.0
    /// Tableau 10: distinct hues that stay apart for most colour vision.
    private static let colors = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ]

    /// The chart as a standalone SVG document.
    func render() -> String {
        let values = series.flatMap { $0.points.map(\.y) }.filter { $0 > 0 && $0.isFinite }
        let (yLow, yHigh) = Self.decadeRange(values)
        let xPositions = xTicks.map(\.position) + series.flatMap { $0.points.map(\.x) }
        let xLow = xPositions.min() ?? 0
        let xHigh = max(xPositions.max() ?? 1, xLow + 1)
        let xPadding = (xHigh - xLow) * 0.04
        func pixelX(_ x: Double) -> Double {
            Self.plotLeft + (x - xLow + xPadding) / (xHigh - xLow + 2 * xPadding) * (Self.plotRight - Self.plotLeft)
        }
        func pixelY(_ y: Double) -> Double {
            Self.plotBottom - (log10(y) - log10(yLow)) / (log10(yHigh) - log10(yLow)) * (Self.plotBottom - Self.plotTop)
        }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.widthPixels))" height="\(Int(Self.heightPixels))" \
            viewBox="0 0 \(Int(Self.widthPixels)) \(Int(Self.heightPixels))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(Self.widthPixels / 2))" y="28" font-size="18" font-weight="bold" text-anchor="middle">\(Self.escaped(title))</text>
            <text x="\(Int(Self.widthPixels / 2))" y="50" font-size="12" fill="#555" text-anchor="middle">\(Self.escaped(subtitle))</text>

            """
        // Horizontal grid and y labels: 1, 2 and 5 in every decade; decades darker.
        for tick in Self.logTicks(low: yLow, high: yHigh) {
            let y = Self.format(pixelY(tick.value))
            let color = tick.isDecade ? "#bbb" : "#e6e6e6"
            svg += "<line x1=\"\(Int(Self.plotLeft))\" y1=\"\(y)\" x2=\"\(Int(Self.plotRight))\" y2=\"\(y)\" stroke=\"\(color)\"/>\n"
            svg += "<text x=\"\(Int(Self.plotLeft) - 6)\" y=\"\(y)\" dy=\"4\" font-size=\"11\" text-anchor=\"end\">\(Self.label(tick.value))</text>\n"
        }
        for tick in xTicks {
            let x = Self.format(pixelX(tick.position))
            svg += "<line x1=\"\(x)\" y1=\"\(Int(Self.plotTop))\" x2=\"\(x)\" y2=\"\(Int(Self.plotBottom))\" stroke=\"#e6e6e6\"/>\n"
            svg += "<text x=\"\(x)\" y=\"\(Int(Self.plotBottom) + 18)\" font-size=\"12\" text-anchor=\"middle\">\(Self.escaped(tick.label))</text>\n"
        }
        svg += """
            <rect x="\(Int(Self.plotLeft))" y="\(Int(Self.plotTop))" width="\(Int(Self.plotRight - Self.plotLeft))" \
            height="\(Int(Self.plotBottom - Self.plotTop))" fill="none" stroke="#333"/>
            <text x="\(Int((Self.plotLeft + Self.plotRight) / 2))" y="\(Int(Self.plotBottom) + 44)" font-size="13" text-anchor="middle">\(Self.escaped(xAxisLabel))</text>
            <text x="22" y="\(Int((Self.plotTop + Self.plotBottom) / 2))" font-size="13" text-anchor="middle" \
            transform="rotate(-90 22 \(Int((Self.plotTop + Self.plotBottom) / 2)))">\(Self.escaped(yAxisLabel))</text>

            """

        for (index, line) in series.enumerated() {
            let color = Self.colors[index % Self.colors.count]
            let dash = line.isDashed ? " stroke-dasharray=\"7 4\"" : ""
            let points = line.points.filter { $0.y > 0 && $0.y.isFinite }
            let path = points.map { "\(Self.format(pixelX($0.x))),\(Self.format(pixelY($0.y)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            for point in points {
                let x = Self.format(pixelX(point.x))
                let y = Self.format(pixelY(point.y))
                svg += "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"3.5\" fill=\"\(color)\"/>\n"
                if line.labelsPoints {
                    // Below the point when another line passes above it here, so labels do not collide.
                    let isBelowAnother = series.contains { other in other.points.contains { $0.x == point.x && $0.y > point.y } }
                    svg += "<text x=\"\(x)\" y=\"\(y)\" dx=\"6\" dy=\"\(isBelowAnother ? 15 : -8)\" font-size=\"10\" fill=\"\(color)\">\(Self.label(point.y))</text>\n"
                }
            }
            // Legend entry.
            let legendY = Int(Self.plotTop) + 8 + index * 22
            let legendX = Int(Self.plotRight) + 20
            svg += "<line x1=\"\(legendX)\" y1=\"\(legendY)\" x2=\"\(legendX + 26)\" y2=\"\(legendY)\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            svg += "<circle cx=\"\(legendX + 13)\" cy=\"\(legendY)\" r=\"3.5\" fill=\"\(color)\"/>\n"
            svg += "<text x=\"\(legendX + 34)\" y=\"\(legendY)\" dy=\"4\" font-size=\"12\">\(Self.escaped(line.name))</text>\n"
        }
        svg += "<text x=\"10\" y=\"\(Int(Self.heightPixels) - 10)\" font-size=\"10\" fill=\"#777\">\(Self.escaped(footnote))</text>\n"
        return svg + "</svg>\n"
    }

    /// The powers of ten just around `values` (1...10 when there are none).
    private static func decadeRange(_ values: [Double]) -> (Double, Double) {
        guard let smallest = values.min(), let largest = values.max() else { return (1, 10) }
        let low = pow(10, floor(log10(smallest)))
        var high = pow(10, ceil(log10(largest)))
        if high <= low { high = low * 10 }
        return (low, high)
    }

    /// 1, 2 and 5 times each power of ten from `low` to `high`.
    private static func logTicks(low: Double, high: Double) -> [(value: Double, isDecade: Bool)] {
        var ticks: [(Double, Bool)] = []
        var decade = low
        while decade <= high * 1.000001 {
            for multiple in [1.0, 2, 5] where decade * multiple <= high * 1.000001 {
                ticks.append((decade * multiple, multiple == 1))
            }
            decade *= 10
        }
        return ticks
    }

    /// A tick or point value as people read it: `20,000`, `3.5`, `0.2`.
    private static func label(_ value: Double) -> String {
        if value >= 100 { return NumberFormatting.grouped(value) }
        if value >= 1 { return NumberFormatting.decimal(value, decimals: value.rounded() == value ? 0 : 1) }
        return NumberFormatting.decimal(value, decimals: 3).replacingOccurrences(of: #"0+$"#, with: "", options: .regularExpression)
    }

    private static func format(_ pixels: Double) -> String { String(format: "%.1f", pixels) }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
