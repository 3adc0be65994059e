// The benchmark's certificates, written once per tenant count (run.sh keeps
// them for half a day: workbook::test_ca's certificates are valid for one).
// Three authorities, as a real deployment would have three owners: the edge
// CA the clients trust, the upstream CA that vouches for the backend, and
// the tenants' CA the backend checks client certificates against. P-256
// keys: 20,000 certificates for 10,000 tenants take seconds.
#include "tenants.hpp"

#include <workbook/test_ca.hpp>

#include <fstream>
#include <stdexcept>
#include <string>

namespace bench {

namespace fs = std::filesystem;

namespace {

void write(fs::path const& path, std::string const& text)
{
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

void write_pair(fs::path const& stem, workbook::issued_certificate const& pair)
{
  write(fs::path(stem).concat(".crt"), pair.certificate);
  write(fs::path(stem).concat(".key"), pair.private_key);
}

} // namespace

void make_certificates(fs::path const& root, int count)
{
  layout const files{root};
  auto const pki = files.pki();
  fs::create_directories(files.edge_dir());
  fs::create_directories(pki.dir / "tenants");

  workbook::test_ca const edge("bench edge CA");
  workbook::test_ca const upstream("bench upstream CA");
  workbook::test_ca const tenants("bench tenants CA");
  write(files.edge_ca(), edge.certificate());
  write(pki.upstream_ca(), upstream.certificate());
  write(pki.tenants_ca(), tenants.certificate());
  // One certificate for every tenant's upstream name: the backend is one
  // server, and each tenant's connection still checks its own name against it.
  write_pair(pki.backend_stem(), upstream.issue_server({"*.tenants.test"}));

  for (int i = 0; i < count; ++i) {
    write_pair(files.edge_dir() / tenant_id(i), edge.issue_server({served_name(i)}));
    write_pair(pki.client_certificate(i).replace_extension(), tenants.issue_client(tenant_id(i)));
  }
}

} // namespace bench
