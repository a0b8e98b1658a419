// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by
// iSCSI (RFC 3720), ext4 and LevelDB. Kept in C so the hardware path can use the
// SSE4.2 crc32 instruction through a function-level target attribute, without
// compiling the whole package for SSE4.2.
#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Extends `crc` (0 for a fresh checksum) over `length` bytes at `bytes`.
/// Uses the hardware instruction when the CPU has it, detected once.
uint32_t crc32c_extend(uint32_t crc, const void *bytes, size_t length);

/// The portable table-driven implementation (slicing-by-8).
uint32_t crc32c_extend_portable(uint32_t crc, const void *bytes, size_t length);

/// The hardware implementation; only call when `crc32c_hardware_available()`.
uint32_t crc32c_extend_hardware(uint32_t crc, const void *bytes, size_t length);

/// 1 if this CPU has a hardware CRC32C instruction that `crc32c_extend` uses.
int crc32c_hardware_available(void);

#ifdef __cplusplus
}
#endif

#endif
