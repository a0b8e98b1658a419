// One line saying where the numbers come from, since a result means little
// without the cores, kernel, CPU and file system behind it.
import Foundation
import Glibc

enum MachineDescription {
    /// E.g. `2 cores, Linux 6.8.0 x86_64, CPU AMD EPYC, /tmp/eventlog-bench-x on ext4 (/dev/vda at /)`.
    static func describe(directory: String) -> String {
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return "\(cores) cores, \(kernel()), CPU \(cpuModel() ?? "unknown"), \(directory) on \(fileSystem(of: directory) ?? "unknown file system")"
    }

    /// System name, release and machine, from uname.
    static func kernel() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "unknown kernel" }
        func field<T>(_ value: inout T) -> String {
            withUnsafeBytes(of: &value) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return "\(field(&names.sysname)) \(field(&names.release)) \(field(&names.machine))"
    }

    /// The first `model name` line of /proc/cpuinfo.
    static func cpuModel() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// The type, device and mount point of the file system holding `path`: the
    /// longest mount point in /proc/self/mounts that contains it.
    static func fileSystem(of path: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var best: (mountPoint: String, description: String)?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            // Mount points escape spaces as \040; such mounts are rare enough to skip.
            let mountPoint = String(fields[1])
            let contains = mountPoint == "/" || resolved == mountPoint || resolved.hasPrefix(mountPoint + "/")
            guard contains, mountPoint.count >= (best?.mountPoint.count ?? 0) else { continue }
            best = (mountPoint, "\(fields[2]) (\(fields[0]) at \(mountPoint))")
        }
        return best?.description
    }
}
