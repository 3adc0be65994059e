// Task 14 · [AC9]: a browser's EventSource. The server serves a page at
// GET /; the page opens an EventSource on /events of the same origin and
// reports every event it receives, by POSTing what it has seen so far to a
// test server on another port (a no-cors request with a text/plain body, so
// no preflight). The stream ends after three events (close_after), and the
// browser must come back with Last-Event-ID and go on where it stopped.
//
// The first two cases do with a plain client what the browser does; the last
// runs Debian's chromium, headless, and is skipped where it is not installed.
#include "fixtures.hpp"

#include <workbook/browser.hpp>
#include <workbook/eventually.hpp>
#include <workbook/process.hpp>
#include <workbook/skip.hpp>
#include <workbook/temp_dir.hpp>
#include <workbook/test_client.hpp>
#include <workbook/test_server.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <mutex>

using namespace task14_test;
using namespace std::chrono_literals;

namespace {

// Every other event has two lines.
std::string browser_data(std::uint64_t id)
{
  return "event " + std::to_string(id) + (id % 2 == 0 ? "\nits second line" : "");
}

// The page: an EventSource on /events; everything it sees, reported.
std::string page_for(unsigned short report_port, std::size_t want)
{
  return R"(<!doctype html>
<meta charset="utf-8">
<title>task 14</title>
<script>
const report = 'http://127.0.0.1:)" +
         std::to_string(report_port) + R"(/report';
const want = )" + std::to_string(want) +
         R"(;
const seen = { messages: [], opens: 0, errors: 0 };
function send() {
  fetch(report, { method: 'POST', mode: 'no-cors', body: JSON.stringify(seen) }).catch(() => {});
}
const source = new EventSource('/events');
source.onopen = () => { seen.opens++; send(); };
source.onerror = () => { seen.errors++; send(); };
source.onmessage = (e) => {
  seen.messages.push({ id: e.lastEventId, data: e.data });
  if (seen.messages.length >= want) source.close();
  send();
};
</script>
)";
}

} // namespace

TEST_CASE("GET / serves the page as text/html", "[AC9]")
{
  auto options = test_options();
  options.page = page_for(1, 8);
  running_server s(options);
  workbook::test_client client(s.port);
  auto const page = client.get("/");
  INFO(page.error);
  CHECK(page.status == 200);
  CHECK(page.header("Content-Type").value_or("(none)") == "text/html; charset=utf-8");
  CHECK(page.body == options.page);
  // The connection stays open for the next request.
  CHECK(client.get("/").status == 200);
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("after close_after events the stream ends with the last chunk and a FIN; a reconnect with Last-Event-ID "
          "goes on from there",
          "[AC9]")
{
  auto options = test_options();
  options.tick = 20ms;
  options.retry = 25ms;
  options.close_after = 3;
  running_server s(options);

  std::string last_seen;
  for (std::uint64_t first : {1ull, 4ull, 7ull}) {
    workbook::header_list extra;
    if (!last_seen.empty()) extra.emplace_back("Last-Event-ID", last_seen);
    auto c = open_stream(s.port, extra);
    REQUIRE(c->connected());
    c->read_to_end(2000ms);
    INFO("stream " << (first + 2) / 3 << (last_seen.empty() ? "" : " (Last-Event-ID: " + last_seen + ")") << ": "
                   << c->describe());
    REQUIRE(c->framing_error.empty());
    REQUIRE(c->chunks.size() == 4);
    CHECK(c->chunks[0].data == "retry: 25\n\n");
    for (std::uint64_t i = 0; i < 3; ++i) CHECK(c->chunks[i + 1].data == expected_event(first + i, tick_data(first + i)));
    CHECK(c->last_chunk);
    CHECK(c->ended);
    CHECK_FALSE(c->reset);
    last_seen = c->parser.last_event_id;  // what a browser sends when it reconnects
  }
  CHECK(workbook::eventually([&] { return s.open_streams() == 0; }, 1000ms));
}

TEST_CASE("a browser's EventSource receives the events, and resumes with Last-Event-ID after each dropped stream",
          "[AC9]")
{
  auto const chromium = workbook::find_program("chromium");
  if (!chromium) WORKBOOK_SKIP("chromium is not installed: apt install chromium");

  // What the page reports; each report holds everything seen so far, and
  // reports may arrive out of order: keep the fullest.
  std::mutex mutex;
  nlohmann::json seen;
  std::size_t reports = 0;
  auto receiver = workbook::test_server::serving([&](workbook::request const& req) {
    auto report = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    std::lock_guard lock(mutex);
    ++reports;
    if (report.is_object() && report.contains("messages") && report["messages"].is_array() &&
        (seen.is_null() || report["messages"].size() >= seen["messages"].size()))
      seen = std::move(report);
    return workbook::response{204, "No Content", {{"Access-Control-Allow-Origin", "*"}}, "", ""};
  });

  constexpr std::size_t want = 8;
  auto options = test_options();
  options.tick = 40ms;
  options.retry = 30ms;  // the browser waits 3 s to reconnect without it
  options.close_after = 3;
  options.data = browser_data;
  options.page = page_for(receiver.port(), want);
  running_server s(options);

  // Before the browser: the page must be there at all.
  {
    workbook::test_client client(s.port);
    auto const page = client.get("/");
    INFO(page.error);
    REQUIRE(page.status == 200);
    REQUIRE(page.body == options.page);
  }

  workbook::temp_dir dir("task14-browser");
  auto const start = clock_type::now();
  bool got_all = false;
  {
    workbook::headless_browser b(*chromium, dir.path(), "http://127.0.0.1:" + std::to_string(s.port) + "/");
    got_all = workbook::eventually(
        [&] {
          std::lock_guard lock(mutex);
          return !seen.is_null() && seen["messages"].size() >= want;
        },
        20000ms);
  }
  auto const took = since(start);

  std::lock_guard lock(mutex);
  INFO("after " << took.count() << " ms the page had reported " << reports << " times; the fullest report: "
                << (seen.is_null() ? std::string("(none)") : seen.dump()) << "\nchromium's output, last lines:"
                << workbook::last_lines(dir.path() / "chromium.log"));
  REQUIRE(got_all);
  auto const& messages = seen["messages"];
  for (std::size_t i = 0; i < want; ++i) {
    auto const id = i + 1;
    INFO("message " << id << ": " << messages[i].dump());
    CHECK(messages[i].value("id", std::string("(none)")) == std::to_string(id));
    CHECK(messages[i].value("data", std::string("(none)")) == browser_data(id));
  }
  // Eight events, three to a stream: the browser opened three streams, and
  // saw two of them end.
  CHECK(seen.value("opens", 0) >= 3);
  CHECK(seen.value("errors", 0) >= 2);
  WARN("chromium: " << want << " events over " << seen.value("opens", 0) << " streams in " << took.count()
                    << " ms, start-up included");
}
