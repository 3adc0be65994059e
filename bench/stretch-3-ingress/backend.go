// The tenants' backend: every request answered 200 "ok", over TLS that
// requires a client certificate and verifies it against the tenants' CA,
// so that each tenant's connections from the ingress's pool really present
// the tenant's identity. Its certificate covers *.tenants.test, every
// tenant's upstream name. Standard library only; run.sh sets GOMAXPROCS=1.
//
//	backend -cert pki/backend.crt -key pki/backend.key -client-ca pki/tenants-ca.crt
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "backend:", err)
	os.Exit(1)
}

func main() {
	cert := flag.String("cert", "", "the backend's certificate (PEM)")
	key := flag.String("key", "", "its private key (PEM)")
	clientCA := flag.String("client-ca", "", "the CA the tenants' client certificates chain to (PEM)")
	flag.Parse()

	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		fail(err)
	}
	pem, err := os.ReadFile(*clientCA)
	if err != nil {
		fail(err)
	}
	tenants := x509.NewCertPool()
	if !tenants.AppendCertsFromPEM(pem) {
		fail(fmt.Errorf("no certificate in %s", *clientCA))
	}

	ok := []byte("ok")
	server := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write(ok)
		}),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{pair},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    tenants,
			MinVersion:   tls.VersionTLS12,
		},
		// No timeouts: the pool keeps each tenant's connection idle between
		// requests, and 10,000 tenants' connections must all stay open.
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	fail(server.ServeTLS(ln, "", ""))
}
