// A growable byte buffer that the writer reuses for every batch, so encoding an
// append allocates nothing once the buffer has reached its working size.
// Little-endian stores and loads live here too: every codec shares them.

/// A reusable, growable buffer of bytes.
struct ByteBuffer: ~Copyable {
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Bytes written so far.
    private(set) var count: Int = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        pointer = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { pointer.deallocate() }

    /// Forgets the contents, keeping the memory. A buffer that grew far beyond
    /// `keepingAtMost` bytes is shrunk back, so one huge append does not pin memory.
    mutating func removeAll(keepingAtMost limit: Int = 8 * 1024 * 1024) {
        count = 0
        if capacity > limit {
            pointer.deallocate()
            capacity = limit
            pointer = .allocate(byteCount: capacity, alignment: 16)
        }
    }

    /// Makes room for `additional` more bytes.
    mutating func reserve(_ additional: Int) {
        let needed = count + additional
        guard needed > capacity else { return }
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newPointer = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newPointer.copyMemory(from: pointer, byteCount: count)
        pointer.deallocate()
        pointer = newPointer
        capacity = newCapacity
    }

    /// Appends `size` bytes written by `fill`, which must write every one of them
    /// (the memory is not zeroed first).
    mutating func append(count size: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        reserve(size)
        fill(UnsafeMutableRawBufferPointer(start: pointer + count, count: size))
        count += size
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        reserve(bytes.count)
        (pointer + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    /// The written bytes.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The written bytes from `start` to `end`.
    func withBytes<R>(from start: Int, to end: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(0 <= start && start <= end && end <= count)
        return try body(UnsafeRawBufferPointer(start: pointer + start, count: end - start))
    }
}

extension UnsafeRawBufferPointer {
    /// How many bytes from `start` are zero, counted in whole 8-byte words that end
    /// at or before `end` (64 bytes at a time while it can: a loop the compiler
    /// vectorizes).
    func zeroWordBytes(from start: Int, to end: Int) -> Int {
        precondition(0 <= start && start <= end && end <= count, "zero scan within the buffer")
        guard let base = baseAddress else { return 0 }
        var index = start
        while index + 64 <= end {
            var bits: UInt64 = 0
            for word in 0..<8 { bits |= base.loadUnaligned(fromByteOffset: index + word * 8, as: UInt64.self) }
            if bits != 0 { break }
            index += 64
        }
        while index + 8 <= end, base.loadUnaligned(fromByteOffset: index, as: UInt64.self) == 0 { index += 8 }
        return index - start
    }

    /// Loads a little-endian integer at `offset`; the caller has checked the bounds.
    @inline(__always)
    func loadLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    /// Stores a little-endian integer at `offset`; the caller has checked the bounds.
    @inline(__always)
    func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}
