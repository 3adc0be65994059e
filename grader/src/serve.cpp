// `grader serve`: the workbook in a browser, served by a Beast server of its
// own on 127.0.0.1. This file is the verb and the server's lifetime: bind,
// print the URL with its token, run one io_context thread for HTTP and the
// grading worker beside it, stop cleanly on Ctrl-C or SIGTERM.
#include "grading_worker.hpp"
#include "live_events.hpp"
#include "progress.hpp"
#include "verbs.hpp"
#include "web_security.hpp"
#include "web_session.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <optional>

namespace grader {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// The URL to open; the token rides along once and becomes a cookie.
void announce(unsigned short port, std::string const& token)
{
  std::printf("grader serve: the workbook is at\n\n  http://127.0.0.1:%u/?token=%s\n\n"
              "Open it in a browser on this machine (the token keeps other users out).\n"
              "Listening on 127.0.0.1 port %u; Ctrl-C stops.\n",
              port, token.c_str(), port);
  std::fflush(stdout);
}

} // namespace

int cmd_serve(context const& ctx, task const*, verb_options const& options)
{
  if (!web::is_loopback_address(options.serve_address)) {
    std::fprintf(stderr,
                 "grader: serve listens on 127.0.0.1 only, not on %s: the page runs your builds and records "
                 "your progress, so it is for this machine alone.\n",
                 options.serve_address.c_str());
    return exit_usage;
  }
  asio::io_context io(1);
  web::security_config security{web::new_token(), 0};

  std::optional<web::live_events> events;
  events.emplace([&](std::string const& id) {
    task const& t = *ctx.cat.find(id);
    return web::verdict_section(t, events->state(id), open_progress(ctx.paths.state_dir()).get(id));
  });
  web::grading_worker worker(ctx, io.get_executor(),
                             {[&](std::string const& id) { events->building(id); },
                              [&](std::string const& id, verdict v) { events->graded(id, std::move(v)); }});
  web::live_hooks hooks{[&](std::string const& id) { return events->state(id); },
                        [&](std::string const& id) { worker.grade(id); }};
  std::optional<tcp::acceptor> acceptor;
  try {
    acceptor.emplace(web::listen_on(io, {asio::ip::make_address("127.0.0.1"), options.serve_port}));
  } catch (boost::system::system_error const& e) {
    std::fprintf(stderr, "grader: cannot listen on 127.0.0.1:%u: %s\n", options.serve_port, e.code().message().c_str());
    return exit_usage;
  }
  security.port = acceptor->local_endpoint().port();
  web::web_routes const routes(ctx, security, hooks);
  auto const listener = std::make_shared<web::web_listener>(io, std::move(*acceptor), routes, *events);
  listener->run();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    std::printf("\ngrader serve: stopping\n");
    listener->stop();
    events->close_all();
    io.stop();
  });
  announce(security.port, security.token);
  io.run();
  std::fflush(stdout);
  worker.stop();   // after the grade in progress, if one is
  return exit_pass;
}

} // namespace grader
