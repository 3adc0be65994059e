// Boost.URL's out-of-line parts, compiled once (as asio_impl.cpp does for Asio).
#include <boost/url/src.hpp>
