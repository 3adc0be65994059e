// Stretch 3 · your certificates (steps 1, 2 and 6 of README.md): which
// names a certificate covers, a directory read into a certificate set all
// at once or not at all, and putting a new set in service.
//
// As it stands no name matches and no directory is read.
#include "ingress_impl.hpp"

namespace stretch3 {

// TODO (step 1): RFC 6125's rules, as the contract's comment on
// name_matches lists them. Pure: no I/O, no state.
bool name_matches(std::string_view pattern, std::string_view server_name)
{
  (void)pattern;
  (void)server_name;
  return false;
}

// TODO (step 2): read options.cert_dir (D1): pair each <stem>.crt with its
// <stem>.key, skip dot files and other extensions, parse the PEM, check
// that the key is the certificate's, take the leaf's subjectAltName DNS
// names. Collect every problem as "<stem>: <reason>" (D2); only a
// directory without one becomes a set.
//
// TODO (step 6): reload() reads and checks off the handshake path, then
// swaps the set in one step (D3), serialised, and emits its event outside
// your locks. With watch_interval > 0, a watcher polls the directory's
// listing (names, sizes, modification times, inodes) and reloads when it
// changed.
reload_result ingress::reload()
{
  return {};
}

} // namespace stretch3
