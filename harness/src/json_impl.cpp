// Boost.JSON's out-of-line parts, compiled once (as asio_impl.cpp does for Asio):
// boost::json::stream_parser is there for any task that parses a body as it arrives.
#include <boost/json/src.hpp>
