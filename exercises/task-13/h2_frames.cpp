// Task 13 · your HTTP/2 frame layer. Start with README.md; the steps there
// match the TODOs here. Run `grader task-13` after each step.
//
// As it stands the decoder swallows every byte and never finds a frame, the
// printer prints nothing and the sender never sends: it compiles, runs, and
// fails every criterion.
#include "h2_frames.hpp"

namespace task13 {

// ---------------------------------------------------------------- the decoder

struct frame_decoder::state {
  // TODO (steps 2-3): what the decoder keeps between calls: the bytes fed
  // and not yet consumed (how will you drop the consumed ones, so that a
  // long connection does not keep them all?), whose bytes they are, the
  // largest frame allowed.
  // TODO (step 4): how far the preface has come; whether the first frame
  // has been seen.
  // TODO (step 5): the stream whose header block is still open, if any;
  // the error, once there is one.
};

frame_decoder::frame_decoder(sender from, std::uint32_t max_frame_size) : state_(std::make_unique<state>())
{
  (void)from;
  (void)max_frame_size;
}

frame_decoder::~frame_decoder() = default;
frame_decoder::frame_decoder(frame_decoder&&) noexcept = default;
frame_decoder& frame_decoder::operator=(frame_decoder&&) noexcept = default;

void frame_decoder::feed(std::string_view bytes)
{
  // TODO (step 3): keep the bytes. `bytes` is gone when feed() returns.
  (void)bytes;
}

decode_result frame_decoder::next()
{
  // TODO (step 4): a client's preface first, compared as far as it has come.
  // TODO (step 2): the 9-byte header: 24 bits of length, the type, the
  // flags, then 31 bits of stream id (what do you do with the 32nd?).
  // TODO (step 3): is the whole frame here yet? If not: need_more, and
  // nothing consumed. Which check can you make on the header alone?
  // TODO (step 5): the payload of each type: padding, priority fields,
  // SETTINGS entries, WINDOW_UPDATE, PING, GOAWAY, RST_STREAM; the rules of
  // h2_frames.hpp, each broken one a frame_error naming its section.
  // TODO (step 5): the order of frames: SETTINGS first, CONTINUATION
  // where a header block is left open.
  return need_more{};
}

std::size_t frame_decoder::buffered() const
{
  // TODO (step 3): the bytes fed and not yet consumed.
  return 0;
}

// ---------------------------------------------------------------- the printer

std::string trace_line(frame const& f, direction d)
{
  // TODO (step 6): one line, as h2_frames.hpp describes it. Which flag
  // names belong to which frame types?
  (void)f;
  (void)d;
  return {};
}

// ---------------------------------------------------------------- flow control

struct flow_sender::state {
  // TODO (step 7): the connection's window, each open stream's window and
  // what it still has to send, and the peer's settings that matter here.
};

flow_sender::flow_sender() : state_(std::make_unique<state>()) {}
flow_sender::~flow_sender() = default;
flow_sender::flow_sender(flow_sender&&) noexcept = default;
flow_sender& flow_sender::operator=(flow_sender&&) noexcept = default;

void flow_sender::write(std::uint32_t stream_id, std::size_t bytes, bool end_stream)
{
  // TODO (step 7): open the stream if needed (with which window?) and
  // count the bytes it has to send.
  (void)stream_id;
  (void)bytes;
  (void)end_stream;
}

std::optional<frame_error> flow_sender::receive(frame const& f)
{
  // TODO (step 7): WINDOW_UPDATE grows one window: which one? SETTINGS may
  // change INITIAL_WINDOW_SIZE (and so what, for the streams already
  // open?) and MAX_FRAME_SIZE. A window may not pass 2^31-1.
  (void)f;
  return std::nullopt;
}

std::vector<data_sent> flow_sender::send()
{
  // TODO (step 7): as much as both windows and the frame size allow, stream
  // by stream; END_STREAM on each body's last frame.
  return {};
}

std::int64_t flow_sender::connection_window() const
{
  // TODO (step 7)
  return 0;
}

std::optional<std::int64_t> flow_sender::stream_window(std::uint32_t stream_id) const
{
  // TODO (step 7)
  (void)stream_id;
  return std::nullopt;
}

std::size_t flow_sender::pending(std::uint32_t stream_id) const
{
  // TODO (step 7)
  (void)stream_id;
  return 0;
}

} // namespace task13
