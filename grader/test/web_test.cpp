// grader serve, without a socket: the security checks (token, Host, origin),
// the paths it will read (a Boost header, nothing else), task ids taken from
// the catalog, the pages rendered from a temporary progress file, and the
// progress file's lock under concurrent writers.
#include "files.hpp"
#include "source_view.hpp"
#include "text.hpp"
#include "student_actions.hpp"
#include "web_html.hpp"
#include "web_pages.hpp"
#include "web_routes.hpp"
#include "web_security.hpp"

#include <catch2/catch.hpp>

#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace grader;
using namespace grader::web;

namespace {

struct scratch {
  fs::path path = fs::temp_directory_path() / ("grader-web-" + std::to_string(::getpid()));
  scratch()
  {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch() { fs::remove_all(path); }
};

void write(fs::path const& p, std::string const& text)
{
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

security_config const config{"secret-token", 8123};

request_credentials browser(std::string host = "127.0.0.1:8123")
{
  return {std::move(host), "", "grader_token_8123=secret-token", "", false};
}

// A workbook of one task (task 01's README), its rubric and assets, with a
// progress file of its own.
struct small_workbook {
  scratch dir;
  small_workbook()
  {
    fs::path const src = WORKBOOK_SOURCE_DIR;
    fs::create_directories(dir.path / "exercises" / "task-01");
    fs::copy_file(src / "exercises/task-01/README.md", dir.path / "exercises/task-01/README.md");
    fs::copy_file(src / "rubric.md", dir.path / "rubric.md");
    fs::create_directories(dir.path / "grader");
    fs::copy(src / "grader/web", dir.path / "grader/web", fs::copy_options::recursive);
  }
  fs::path state() const { return dir.path / ".grader"; }
};

struct routes_under_test {
  small_workbook wb;
  catalog cat{wb.dir.path};
  context ctx{paths_for(wb.dir.path), cat};
  std::vector<std::string> graded;
  live_verdict none;
  web_routes routes{ctx, config, {[this](std::string const&) { return none; },
                                  [this](std::string const& id) { graded.push_back(id); }}};

  web_response get(std::string target) { return routes.handle({"GET", std::move(target), "127.0.0.1:8123", "", "grader_token_8123=secret-token", "", ""}); }
  web_response post(std::string target, std::string body = "")
  {
    return routes.handle({"POST", std::move(target), "127.0.0.1:8123", "http://127.0.0.1:8123",
                          "grader_token_8123=secret-token", "application/x-www-form-urlencoded", std::move(body)});
  }
};

std::string header(web_response const& r, std::string const& name)
{
  for (auto const& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

} // namespace

TEST_CASE("the token is 32 random bytes in hex, new every time", "[web]")
{
  auto const a = new_token(), b = new_token();
  CHECK(a.size() == 64);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}

TEST_CASE("only loopback may be bound", "[web]")
{
  CHECK(is_loopback_address("127.0.0.1"));
  CHECK(is_loopback_address("localhost"));
  CHECK_FALSE(is_loopback_address("0.0.0.0"));
  CHECK_FALSE(is_loopback_address("::"));
  CHECK_FALSE(is_loopback_address("192.168.1.2"));
}

TEST_CASE("the Host header must name this server, against DNS rebinding", "[web]")
{
  CHECK_FALSE(check_request(config, browser("127.0.0.1:8123")));
  CHECK_FALSE(check_request(config, browser("LOCALHOST:8123")));
  for (std::string host : {"evil.example:8123", "127.0.0.1:8124", "127.0.0.1", "", "127.0.0.1:8123.evil.example",
                           "localhost.:8123"}) {
    INFO(host);
    auto const no = check_request(config, browser(host));
    REQUIRE(no);
    CHECK(no->status == 421);
  }
}

TEST_CASE("every request needs the token, in the query or its cookie", "[web]")
{
  auto r = browser();
  r.cookie = "";
  CHECK(check_request(config, r)->status == 403);
  r.cookie = "grader_token_8123=wrong-token!";
  CHECK(check_request(config, r)->status == 403);
  r.cookie = "grader_token_9999=secret-token";   // another server's cookie
  CHECK(check_request(config, r)->status == 403);
  r.cookie = "a=b; grader_token_8123=secret-token; c=d";
  CHECK_FALSE(check_request(config, r));
  r.cookie = "";
  r.query_token = "secret-token";
  CHECK_FALSE(check_request(config, r));
  r.query_token = "secret-toke";
  CHECK(check_request(config, r)->status == 403);
}

TEST_CASE("a form posted from another origin is refused", "[web]")
{
  auto r = browser();
  r.unsafe = true;
  r.origin = "http://evil.example";
  CHECK(check_request(config, r)->status == 403);
  r.origin = "http://127.0.0.1:8123";
  CHECK_FALSE(check_request(config, r));
  r.origin = "";   // no Origin (an older browser, curl): the cookie and Host still hold
  CHECK_FALSE(check_request(config, r));
}

TEST_CASE("request targets and forms are decoded by Boost.URL; malformed ones refused", "[web]")
{
  auto const t = parse_target("/source/%2e%2e/%2E?token=ab%63&x=a+b&token=zz");
  REQUIRE(t);
  CHECK(t->path == "/source/../.");
  CHECK(t->query.at("token") == "abc");   // the first of a repeated name
  CHECK(t->query.at("x") == "a b");
  CHECK_FALSE(parse_target("/a%zz"));
  CHECK_FALSE(parse_target("/a%2"));
  CHECK_FALSE(parse_target("/a%00b"));
  CHECK_FALSE(parse_target("http://elsewhere/"));   // not origin-form
  CHECK_FALSE(parse_target("/a b"));
  auto const form = parse_form("grade=3&x=%41+b&grade=1");
  CHECK(form.at("grade") == "3");
  CHECK(form.at("x") == "A b");
  CHECK(parse_form("grade=%zz").empty());
}

TEST_CASE("only regular Boost headers inside the tree resolve", "[web][source]")
{
  scratch dir;
  fs::path const inc = dir.path / "include";
  write(inc / "boost/ok.hpp", "int ok;\n");
  write(inc / "boost/sub/impl.ipp", "int impl;\n");
  write(inc / "boost/notes.txt", "not a header\n");
  write(inc / "secret.hpp", "outside\n");
  write(dir.path / "far/away.hpp", "outside\n");
  fs::create_symlink(inc / "secret.hpp", inc / "boost/evil.hpp");
  fs::create_directory_symlink(dir.path / "far", inc / "boost/far");

  CHECK(resolve_header(inc, "boost/ok.hpp") == fs::canonical(inc / "boost/ok.hpp"));
  CHECK(resolve_header(inc, "boost/sub/impl.ipp"));
  CHECK(resolve_header(inc, "boost/sub/../ok.hpp"));
  for (std::string bad : std::vector<std::string>{"boost/../secret.hpp", "secret.hpp", "boost/evil.hpp", "boost/far/away.hpp",
                          "boost/notes.txt", "boost/missing.hpp", "boost/sub", "/etc/passwd",
                          (inc / "boost/ok.hpp").string(), "boost/../../far/away.hpp", ""}) {
    INFO(bad);
    CHECK_FALSE(resolve_header(inc, bad));
  }
}

TEST_CASE("the source route serves the installed Boost and nothing else", "[web][source]")
{
  routes_under_test t;
  auto const ok = t.get("/source/boost/asio/write.hpp");
  REQUIRE(ok.status == 200);
  CHECK(ok.body.find("id=\"L1\"") != std::string::npos);
  CHECK(ok.body.find("async_write") != std::string::npos);
  for (std::string bad : {"/source/boost/../../../etc/passwd", "/source/%2e%2e/%2e%2e/etc/passwd",
                          "/source/boost/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/source//etc/passwd",
                          "/source/boost/asio/../../stdio.h", "/source/boost%2f..%2f..%2f..%2fetc%2fpasswd"}) {
    INFO(bad);
    auto const r = t.get(bad);
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    CHECK(r.body.find("root:") == std::string::npos);
  }
  CHECK(t.get("/source/boost/asio/write.hpp%00.txt").status == 400);
}

TEST_CASE("routes take task ids from the catalog only", "[web]")
{
  routes_under_test t;
  CHECK(t.get("/task/task-01").status == 200);
  CHECK(t.graded == std::vector<std::string>{"task-01"});   // its first grading, queued
  for (std::string bad : {"/task/task-99", "/task/..%2f..%2fetc", "/task/", "/task/task-01%00", "/task/TASK-01",
                          "/task/task-01/nothing", "/nowhere", "/static/../rubric.md", "/static/style.css.bak"}) {
    INFO(bad);
    auto const r = t.get(bad);
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
  }
  CHECK(t.get("/static/style.css").status == 200);
  CHECK(t.routes.handle({"DELETE", "/", "127.0.0.1:8123", "", "grader_token_8123=secret-token", "", ""}).status == 405);
  auto const events = t.get("/task/task-01/events");
  CHECK(events.event_stream == "task-01");
}

TEST_CASE("the token in the URL becomes a cookie and leaves the address bar", "[web]")
{
  routes_under_test t;
  auto const r = t.routes.handle({"GET", "/task/task-01?token=secret-token", "127.0.0.1:8123", "", "", "", ""});
  CHECK(r.status == 303);
  CHECK(header(r, "Location") == "/task/task-01");
  CHECK(header(r, "Set-Cookie") == "grader_token_8123=secret-token; HttpOnly; SameSite=Strict; Path=/");
  CHECK(t.routes.handle({"GET", "/", "127.0.0.1:8123", "", "", "", ""}).status == 403);
  CHECK(t.routes.handle({"GET", "/", "attacker.example:8123", "", "grader_token_8123=secret-token", "", ""}).status == 421);
}

TEST_CASE("hints, self-grade and reveal follow the CLI's rules in the same progress file", "[web]")
{
  routes_under_test t;
  auto const& task01 = *t.cat.find("task-01");
  REQUIRE(task01.hints.size() >= 2);
  CHECK(t.post("/task/task-01/hint").status == 303);
  auto record = open_progress(t.wb.state()).get("task-01");
  REQUIRE(record);
  CHECK(record->hints_shown == std::vector<int>{0});
  CHECK(take_next_hint(t.ctx.paths, task01) == 1);   // the CLI's next one follows the page's
  CHECK(t.get("/task/task-01").body.find(render_inline_markdown(task01.hints[1].text)) != std::string::npos);

  CHECK(t.post("/task/task-01/self-grade", "grade=3").status == 409);   // not before a pass
  CHECK(t.post("/task/task-01/reveal").status >= 403);                  // not before a pass (or no reference here)
  CHECK(t.post("/task/task-01/self-grade", "grade=7").status == 400);

  update_record(t.wb.state(), "task-01", [](task_record& r) {
    r.verdict = "passed";
    r.criteria_passed = r.criteria_total = 4;
    return true;
  });
  CHECK(t.post("/task/task-01/self-grade", "grade=3").status == 303);
  record = open_progress(t.wb.state()).get("task-01");
  CHECK(record->self_grade == 3);
  CHECK(record->score == 1);   // no NOTES.md: capped at 1, as the CLI caps it
  CHECK_FALSE(record->cap_reason.empty());
  CHECK(record->hints_shown == std::vector<int>{0, 1});
}

TEST_CASE("the map shows statuses, scores and the tally against the bands", "[web]")
{
  small_workbook wb;
  catalog const cat(wb.dir.path);
  update_record(wb.state(), "task-01", [](task_record& r) {
    r.verdict = "passed";
    r.criteria_passed = r.criteria_total = 4;
    r.score = 2;
    return true;
  });
  auto const html = map_page(cat, open_progress(wb.state()), load_rubric(wb.dir.path / "rubric.md"));
  CHECK(html.find("href=\"/task/task-01\"") != std::string::npos);
  CHECK(html.find("4/4") != std::string::npos);
  CHECK(html.find("Tally: <strong>2</strong> of 3") != std::string::npos);
  CHECK(html.find("class=\"band here\"") != std::string::npos);
  CHECK(html.find("Every task passes") != std::string::npos);
}

TEST_CASE("a failure's exchange is a table of sent and received", "[web]")
{
  std::string const transcript = "[client 1] > GET / HTTP/1.1\n[client 1] > Host: x\n[client 1] < HTTP/1.1 500 <oops>\n"
                                 "* connection closed\n";
  auto const rows = exchange_rows(transcript);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].what == exchange_row::kind::sent);
  CHECK(rows[0].text == "GET / HTTP/1.1\nHost: x");
  CHECK(rows[1].what == exchange_row::kind::received);
  CHECK(rows[2].what == exchange_row::kind::note);
  auto const html = exchange_table(transcript);
  CHECK(html.find("&lt;oops&gt;") != std::string::npos);
  CHECK(html.find("<oops>") == std::string::npos);
}

TEST_CASE("the Source trail links each Boost file at its symbol's line", "[web][source]")
{
  std::string const md = "# T\n\n## Source trail\n\n- `boost/asio/write.hpp` · `async_write`: x\n- `boost/nope.hpp` · y\n";
  auto const linked = link_source_trail(md, system_include_dir);
  CHECK(linked.find("[`boost/asio/write.hpp`](/source/boost/asio/write.hpp#L") != std::string::npos);
  CHECK(linked.find("- `boost/nope.hpp` · y") != std::string::npos);
  // A member lands on its definition, not on the class's first mention.
  auto const ipp = read_file_or_empty(system_include_dir / "boost/beast/http/impl/basic_parser.ipp");
  int const put = line_of(ipp, "basic_parser::put");
  REQUIRE(put > 0);
  CHECK(trim(split_lines(ipp)[static_cast<std::size_t>(put - 1)]).starts_with("put("));
  CHECK(line_of(ipp, "basic_parser::no_such_member") == line_of(ipp, "basic_parser"));
  CHECK(line_of("// only a comment\nint x;\n", "missing") == 0);
  CHECK(line_of("/** doc naming f\n    f() again\n*/\nchar const* s = \"f\"; // f /* f\nvoid f();\n", "f") == 5);
  CHECK(render_markdown("<script>x</script>").find("<script>") == std::string::npos);
}

TEST_CASE("concurrent writers of the progress file lose nothing", "[web][progress]")
{
  scratch dir;
  auto const add_hints = [&](int from) {
    for (int i = 0; i < 40; ++i)
      update_record(dir.path, "task-01", [&](task_record& r) {
        r.verdict = "failed";
        r.hints_shown.push_back(from + i);
        return true;
      });
  };
  pid_t const child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    add_hints(1000);
    ::_exit(0);
  }
  add_hints(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  auto const r = open_progress(dir.path).get("task-01");
  REQUIRE(r);
  CHECK(r->hints_shown.size() == 80);
}
