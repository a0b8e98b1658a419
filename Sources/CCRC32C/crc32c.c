// CRC32C with a hardware path (x86-64 SSE4.2 `crc32`) and a portable
// slicing-by-8 fallback. The two are checked against the RFC 3720 vectors and
// against each other in Tests/EventLogTests/CRC32CTests.swift.
#include "CCRC32C.h"

#include <string.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ POLY : crc >> 1;
        table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = table[0][crc & 0xff] ^ (crc >> 8);
            table[k][n] = crc;
        }
    }
}

// The table is built once, before main, so concurrent first calls cannot race.
__attribute__((constructor)) static void crc32c_init_table(void) {
    build_table();
    table_ready = 1;
}

uint32_t crc32c_extend_portable(uint32_t crc, const void *bytes, size_t length) {
    const uint8_t *p = (const uint8_t *)bytes;
    if (!table_ready) { build_table(); table_ready = 1; }
    crc = ~crc;
    while (length > 0 && ((uintptr_t)p & 7) != 0) {
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        length--;
    }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);  // little-endian hosts only; see the big-endian note below
        uint32_t lo = (uint32_t)word ^ crc;
        uint32_t hi = (uint32_t)(word >> 32);
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
              table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
              table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        length -= 8;
    }
    while (length > 0) {
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        length--;
    }
    return ~crc;
}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "crc32c.c assumes a little-endian host (x86-64, arm64)"
#endif

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
uint32_t crc32c_extend_hardware(uint32_t crc, const void *bytes, size_t length) {
    const uint8_t *p = (const uint8_t *)bytes;
    uint64_t c = ~crc;
    while (length > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        length--;
    }
    // Three independent lanes would hide the instruction's 3-cycle latency; one
    // lane already runs at several GB/s, far above what the log needs per record.
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        length -= 8;
    }
    while (length > 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        length--;
    }
    return ~(uint32_t)c;
}

static int detect_hardware(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}
#else
uint32_t crc32c_extend_hardware(uint32_t crc, const void *bytes, size_t length) {
    return crc32c_extend_portable(crc, bytes, length);
}
static int detect_hardware(void) { return 0; }
#endif

static int hardware = -1;

__attribute__((constructor)) static void crc32c_detect(void) { hardware = detect_hardware(); }

int crc32c_hardware_available(void) {
    if (hardware < 0) hardware = detect_hardware();
    return hardware;
}

uint32_t crc32c_extend(uint32_t crc, const void *bytes, size_t length) {
    if (crc32c_hardware_available()) return crc32c_extend_hardware(crc, bytes, length);
    return crc32c_extend_portable(crc, bytes, length);
}
