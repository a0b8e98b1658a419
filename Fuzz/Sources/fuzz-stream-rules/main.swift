// libFuzzer driver for the "stream-rules" target; the body lives in EventLog's FuzzTargets.
import CFuzzDriver
@_spi(Fuzzing) import EventLog

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
let body = FuzzTargets.all["stream-rules"]!
_ = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    body(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
