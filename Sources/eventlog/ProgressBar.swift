// Long commands (verify, export, import) show how far they are, how fast they go
// and how long is left: on standard error, and only when it is a terminal, so a
// script's pipe or a log file gets no extra bytes.
import Foundation

/// One progress line on standard error, redrawn in place with `\r`.
///
///     [##########--------------]  42%  126000 events  85.2k events/s  0:03 left
struct ProgressBar {
    /// Redraw at most this often: faster than a person reads is wasted writes. Work
    /// that ends sooner than this draws nothing at all.
    static let redrawInterval = Duration.milliseconds(100)
    static let barWidth = 24

    private let unit: String
    private let isEnabled: Bool
    private let started = ContinuousClock.now
    private var nextDraw: ContinuousClock.Instant
    /// Columns of the widest line drawn so far (what `finish` blanks out).
    private var drawnWidth = 0

    /// A bar counting `unit` (plural, e.g. "events"), shown only if standard error is a terminal.
    init(unit: String) {
        self.unit = unit
        isEnabled = isatty(STDERR_FILENO) != 0
        nextDraw = started + Self.redrawInterval
    }

    /// Reports `done` units so far and, when known, the `fraction` of the work done (0...1).
    /// Cheap when nothing is drawn: one clock read, or nothing when standard error is not a terminal.
    mutating func update(done: UInt64, fraction: Double?) {
        guard isEnabled else { return }
        let now = ContinuousClock.now
        guard now >= nextDraw else { return }
        nextDraw = now + Self.redrawInterval
        let text = Self.render(done: done, fraction: fraction, elapsed: now - started, unit: unit)
        // Pad over the end of a longer line drawn before.
        let padding = String(repeating: " ", count: max(0, drawnWidth - text.count))
        drawnWidth = max(drawnWidth, text.count)
        write("\r" + text + padding)
    }

    /// Clears the line, so that whatever is printed next starts on a clean line.
    mutating func finish() {
        guard drawnWidth > 0 else { return }
        write("\r" + String(repeating: " ", count: drawnWidth) + "\r")
        drawnWidth = 0
    }

    /// The line's text: a bar and percentage when the total is known, then the
    /// count, the rate, and the time left estimated from the rate so far.
    static func render(done: UInt64, fraction: Double?, elapsed: Duration, unit: String) -> String {
        let (wholeSeconds, attoseconds) = elapsed.components
        let seconds = Double(wholeSeconds) + Double(attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = ""
        if let fraction {
            let clamped = min(max(fraction.isNaN ? 0 : fraction, 0), 1)
            let filled = Int(clamped * Double(barWidth))
            let percent = Int(clamped * 100)
            text += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled) + "] "
            text += String(repeating: " ", count: 3 - String(percent).count) + "\(percent)%  "
        }
        text += "\(done) \(unit)  \(HumanReadable.count(rate)) \(unit)/s"
        if let fraction, fraction > 0, fraction < 1 {
            text += "  " + HumanReadable.duration(seconds: seconds * (1 - fraction) / fraction) + " left"
        }
        return text
    }

    private func write(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }
}
