// The one door from outside the module into the engine on a simulated disk: the
// crash-test driver (an executable, which cannot use @testable) opens and
// verifies stores through these.

extension FileEventStore {
    /// Opens (creating if allowed) the store in `directory` of `simulatedFileSystem`,
    /// exactly as ``open(directory:options:)`` does on the real disk. The store
    /// belongs to the simulated process running now: after a simulated crash its
    /// calls fail, and the store must be opened again to recover.
    @_spi(Testing) public static func open(
        directory: String, options: StoreOptions = StoreOptions(), simulatedFileSystem: SimulatedFileSystem
    ) throws -> FileEventStore {
        try open(directory: directory, options: options, fileSystem: simulatedFileSystem.attach())
    }

    /// ``verify(directory:progress:)`` on a simulated disk: corruption is reported
    /// in the ``VerifyReport``, not thrown.
    /// - Throws: ``EventStoreError/incompatibleStore(path:reason:)`` if there is no
    ///   store in `directory`; ``EventStoreError/io(operation:path:errno:message:)``
    ///   for a fault the simulated disk injects, or for every call once it crashes.
    /// - Complexity: O(size of the log).
    @_spi(Testing) public static func verify(directory: String, simulatedFileSystem: SimulatedFileSystem) throws -> VerifyReport {
        try verify(directory: directory, fileSystem: simulatedFileSystem.attach(), progress: nil)
    }
}
