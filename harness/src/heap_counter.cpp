// What workbook/heap.hpp counts, two ways.
//
// In a plain build: the replaceable global allocation functions. Every form
// the standard lets a program replace is here, so that no allocation escapes
// the count and no delete is paired with another library's new. The size of
// a block is read back with malloc_usable_size, so a sized delete and an
// unsized one count the same.
//
// Under AddressSanitizer or ThreadSanitizer the runtime owns operator new
// (ThreadSanitizer's is linked statically and would clash with ours), so the
// count comes from the sanitizer's own allocation hooks instead, which see
// malloc as well as new.
#include <workbook/heap.hpp>

#include <atomic>
#include <cstdint>

#include <workbook/sanitizers.hpp>

#if defined(WORKBOOK_SANITIZED)
#include <sanitizer/allocator_interface.h>
#else
#include <malloc.h>

#include <cstdlib>
#include <new>
#endif

namespace {

// Signed: a block allocated before counting began may be freed while it runs.
std::atomic<std::int64_t> live{0};
std::atomic<std::int64_t> peak{0};

// The calling thread's allocations. Constant-initialized static TLS in the
// executable: touching it from inside an allocation allocates nothing.
thread_local std::uint64_t allocations_here = 0;

void count_allocation(std::size_t size) noexcept
{
  ++allocations_here;
  auto const grown = static_cast<std::int64_t>(size);
  std::int64_t const now = live.fetch_add(grown, std::memory_order_relaxed) + grown;
  std::int64_t seen = peak.load(std::memory_order_relaxed);
  while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
}

void count_release(std::size_t size) noexcept
{
  live.fetch_sub(static_cast<std::int64_t>(size), std::memory_order_relaxed);
}

std::size_t not_negative(std::int64_t n) { return n < 0 ? 0 : static_cast<std::size_t>(n); }

} // namespace

namespace workbook::heap {

std::size_t live_bytes() { return not_negative(live.load(std::memory_order_relaxed)); }
std::size_t peak_bytes() { return not_negative(peak.load(std::memory_order_relaxed)); }
void reset_peak() { peak.store(live.load(std::memory_order_relaxed), std::memory_order_relaxed); }
std::uint64_t thread_allocations() { return allocations_here; }

} // namespace workbook::heap

#if defined(WORKBOOK_SANITIZED)

namespace {

void on_malloc(const volatile void* p, std::size_t size) { if (p) count_allocation(size); }
void on_free(const volatile void* p) { if (p) count_release(__sanitizer_get_allocated_size(p)); }

// Before main and before any test thread, as the hooks require.
[[gnu::constructor]] void install_hooks() { __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free); }

} // namespace

#else

namespace {

void* counted(void* p) noexcept
{
  if (p) count_allocation(malloc_usable_size(p));
  return p;
}

void release(void* p) noexcept
{
  if (!p) return;
  count_release(malloc_usable_size(p));
  std::free(p);
}

void* allocate(std::size_t n) noexcept { return counted(std::malloc(n ? n : 1)); }

void* allocate(std::size_t n, std::align_val_t a) noexcept
{
  std::size_t const align = static_cast<std::size_t>(a) < sizeof(void*) ? sizeof(void*) : static_cast<std::size_t>(a);
  void* p = nullptr;
  if (posix_memalign(&p, align, n ? n : 1) != 0) return nullptr;
  return counted(p);
}

template <class... Align>
void* allocate_or_throw(std::size_t n, Align... a)
{
  // operator new loops on the new-handler before giving up, as the
  // standard's own does.
  for (;;) {
    if (void* p = allocate(n, a...)) return p;
    std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

} // namespace

void* operator new(std::size_t n) { return allocate_or_throw(n); }
void* operator new[](std::size_t n) { return allocate_or_throw(n); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate_or_throw(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate_or_throw(n, a); }
void* operator new(std::size_t n, std::nothrow_t const&) noexcept { return allocate(n); }
void* operator new[](std::size_t n, std::nothrow_t const&) noexcept { return allocate(n); }
void* operator new(std::size_t n, std::align_val_t a, std::nothrow_t const&) noexcept { return allocate(n, a); }
void* operator new[](std::size_t n, std::align_val_t a, std::nothrow_t const&) noexcept { return allocate(n, a); }

void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::nothrow_t const&) noexcept { release(p); }
void operator delete[](void* p, std::nothrow_t const&) noexcept { release(p); }
void operator delete(void* p, std::align_val_t, std::nothrow_t const&) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t, std::nothrow_t const&) noexcept { release(p); }

#endif
