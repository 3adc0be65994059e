// Stretch 3 · your listener's TLS context (step 3 of README.md): one
// context for every connection, whose ClientHello callback picks each
// handshake's certificate by its SNI, or refuses the handshake.
//
// As it stands there is no context.
#include "ingress_impl.hpp"

namespace stretch3 {

// TODO (step 3): the listener's context. TLS 1.2 at least; no certificate
// of its own; its ticket keys and session cache are the ones every
// handshake resumes against, across reloads (S2). Its ClientHello callback
// reads the SNI (or takes no_sni_name), finds the certificate in the set in
// service (S1), moves the handshake to it, and binds the session to the
// name, so that a session made for one name never resumes under another.
// A name nothing covers ends the handshake with the unrecognized_name
// alert, before any certificate is sent.

} // namespace stretch3
