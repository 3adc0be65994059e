// workbook/heap.hpp: the counting operator new sees what a test allocates,
// on any thread, and forgets it when it is freed.
#include <workbook/heap.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace heap = workbook::heap;

TEST_CASE("heap: a block is counted while it lives", "[heap]")
{
  auto const before = heap::live_bytes();
  auto block = std::make_unique<char[]>(1 << 20);
  CHECK(heap::live_bytes() >= before + (1 << 20));
  block.reset();
  CHECK(heap::live_bytes() < before + (1 << 20));
}

TEST_CASE("heap: the peak remembers the largest moment since reset_peak", "[heap]")
{
  heap::reset_peak();
  auto const start = heap::live_bytes();
  CHECK(heap::peak_bytes() == start);
  {
    std::vector<char> big(4 << 20);
    big.back() = 1;
  }
  CHECK(heap::live_bytes() < start + (4 << 20));
  CHECK(heap::peak_bytes() >= start + (4 << 20));
  heap::reset_peak();
  CHECK(heap::peak_bytes() < start + (4 << 20));
}

TEST_CASE("heap: allocations of other threads count, aligned ones too", "[heap]")
{
  struct alignas(64) line {
    char bytes[64];
  };
  auto const before = heap::live_bytes();
  std::unique_ptr<line[]> kept;
  std::thread worker([&] { kept = std::make_unique<line[]>(1024); });
  worker.join();
  CHECK(reinterpret_cast<std::uintptr_t>(kept.get()) % 64 == 0);
  CHECK(heap::live_bytes() >= before + 64 * 1024);
  kept.reset();
  CHECK(heap::live_bytes() < before + 64 * 1024);
}

TEST_CASE("heap: thread_allocations counts the calling thread's own allocations", "[heap]")
{
  auto const mine = heap::thread_allocations();
  std::uint64_t theirs = 0;
  std::thread worker([&] {
    auto const start = heap::thread_allocations();
    std::vector<std::unique_ptr<int>> blocks;
    blocks.reserve(10);
    for (int i = 0; i < 10; ++i) blocks.push_back(std::make_unique<int>(i));
    theirs = heap::thread_allocations() - start;
  });
  worker.join();
  CHECK(theirs == 11);  // the vector's storage and ten ints
  auto const before = heap::thread_allocations();
  volatile std::uint64_t x = 1;
  for (int i = 0; i < 1000; ++i) x = x * 3;
  CHECK(heap::thread_allocations() == before);
  CHECK(before >= mine);
}
