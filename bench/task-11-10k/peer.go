// The Go peer of task 11's benchmark: a net/http server of the same shape as
// the workbook's reference (the same deadlines and limits, "ok\n" to every
// GET, keep-alive), so that the two are measured by the same load in the
// same run. Standard library only; built by run.sh with Debian's golang-go.
//
//   peer [-port N]     prints "listening on 127.0.0.1:PORT", serves until SIGINT/SIGTERM
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0: any)")
	flag.Parse()

	// Go raises RLIMIT_NOFILE's soft limit to the hard limit by itself
	// (since Go 1.19), as task 11 asks the C++ server to do.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("ok\n"))
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}
	fmt.Printf("listening on %s\n", ln.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
}
