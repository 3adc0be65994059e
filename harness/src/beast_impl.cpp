// See asio_impl.cpp: Beast's out-of-line parts, compiled once.
#include <boost/beast/src.hpp>
