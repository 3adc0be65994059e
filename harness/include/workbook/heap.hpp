// How much the test process holds on the heap, for tests that bound a
// server's memory ("a 100 MB response passes through a proxy holding a few
// hundred KiB"). Every operator new and delete of a test binary is counted,
// whichever thread makes it (harness/src/heap_counter.cpp replaces them);
// under AddressSanitizer or ThreadSanitizer the sanitizer's allocator hooks
// count instead, and they see malloc() too. Bound differences (growth, peak
// over a baseline), never absolute figures.
//
//   workbook::heap::reset_peak();
//   auto const before = workbook::heap::live_bytes();
//   ... stream 100 MB ...
//   CHECK(workbook::heap::peak_bytes() - before < 4 * 1024 * 1024);
//
// The figures are the sizes the allocator really handed out, so a test
// bounds what the process pays for.
//
// thread_allocations() counts the allocations of the calling thread alone,
// for code that must allocate nothing at all (a signal handler): compare
// two readings taken on that thread.
//
//   auto const before = workbook::heap::thread_allocations();
//   ... run while SIGPROF interrupts this thread ...
//   CHECK(workbook::heap::thread_allocations() == before);
//
// In a plain build it sees operator new only, not a direct malloc() (which
// the C library's own functions use); under ASan/TSan it sees both.
#pragma once

#include <cstddef>
#include <cstdint>

namespace workbook::heap {

// Bytes allocated through operator new and not yet deleted.
std::size_t live_bytes();

// The most live_bytes() has been since the last reset_peak() (or the start).
std::size_t peak_bytes();

// Starts a new high-water mark at the present live_bytes().
void reset_peak();

// How many allocations the calling thread has made since it began.
std::uint64_t thread_allocations();

} // namespace workbook::heap
