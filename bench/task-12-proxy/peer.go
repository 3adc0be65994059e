// The Go peer: httputil.ReverseProxy relaying /api/* to the backend on
// 127.0.0.1:<first argument>, the prefix taken off as task 12's proxy does.
// FlushInterval -1 writes each piece as it comes, as the reference streams.
// Standard library only.
package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
)

func main() {
	backend, _ := url.Parse("http://127.0.0.1:" + os.Args[1])
	proxy := httputil.NewSingleHostReverseProxy(backend)
	proxy.FlushInterval = -1
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api" && !strings.HasPrefix(r.URL.Path, "/api/") {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/api"), "/")
		proxy.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	http.Serve(ln, handler)
}
