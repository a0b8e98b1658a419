// libFuzzer driver for the "index" target; the body lives in EventLog's FuzzTargets.
import CFuzzDriver
@_spi(Fuzzing) import EventLog

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
let body = FuzzTargets.all["index"]!
_ = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    body(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
