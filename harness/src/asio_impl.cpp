// Asio, its SSL support and Beast compiled once for the whole workbook
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are
// PUBLIC definitions of workbook_asio), so no task TU pays for them again.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
