// What the benchmark's programs agree on: what tenant i is called, and where
// its certificates are. make_certs.cpp writes this layout, ingress_main.cpp
// and load.cpp read it; backend.go and run.sh name the same files.
//
//   DIR/edge/tNNNNN.crt, .key     the ingress's certificate directory (D1):
//                                 one pair per tenant, for tNNNNN.example.test
//   DIR/edge-ca.crt               what the clients trust (outside edge/: a
//                                 .crt there without its .key fails the load)
//   DIR/pki/upstream-ca.crt       what the ingress's pool trusts upstream
//   DIR/pki/backend.crt, .key     the backend's certificate, *.tenants.test
//   DIR/pki/tenants-ca.crt        what the backend checks client certificates against
//   DIR/pki/tenants/tNNNNN.crt, .key   each tenant's client certificate
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

namespace bench {

// "t00042": the tenant's id in the pool and the stem of its files.
inline std::string tenant_id(int i)
{
  char id[16];
  std::snprintf(id, sizeof id, "t%05d", i);
  return id;
}

// What clients ask the ingress for (SNI and Host).
inline std::string served_name(int i) { return tenant_id(i) + ".example.test"; }

// What the pool asks the backend for, per tenant: two tenants never share a
// connection, and each checks the backend's certificate for its own name.
inline std::string upstream_name(int i) { return tenant_id(i) + ".tenants.test"; }

// A tenant's client certificate and what both upstream ends trust.
struct pki_files {
  std::filesystem::path dir;
  std::filesystem::path upstream_ca() const { return dir / "upstream-ca.crt"; }
  std::filesystem::path tenants_ca() const { return dir / "tenants-ca.crt"; }
  std::filesystem::path backend_stem() const { return dir / "backend"; }
  std::filesystem::path client_certificate(int i) const { return dir / "tenants" / (tenant_id(i) + ".crt"); }
  std::filesystem::path client_key(int i) const { return dir / "tenants" / (tenant_id(i) + ".key"); }
};

struct layout {
  std::filesystem::path root;
  std::filesystem::path edge_dir() const { return root / "edge"; }
  std::filesystem::path edge_ca() const { return root / "edge-ca.crt"; }
  pki_files pki() const { return {root / "pki"}; }
};

// Writes the whole layout under `root` for tenants 0..count-1, every
// certificate from authorities made for this call (workbook::test_ca: P-256,
// valid for a day). Throws std::runtime_error on any failure.
void make_certificates(std::filesystem::path const& root, int count);

} // namespace bench
