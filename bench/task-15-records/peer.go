// The Go peer of task 15's benchmark: a net/http server of the same shape as
// the workbook's reference, streaming the same records (make_record in
// exercises/task-15/records.hpp, ported line for line) with the same
// parameters and answers, so that the two are measured by the same client in
// the same run. Standard library only; built by run.sh with Debian's
// golang-go.
//
//	peer [-port N]     prints "listening on 127.0.0.1:PORT", serves until SIGINT/SIGTERM
//
// Each record goes through a json.Encoder (which ends every value with a
// newline) into a 64 KiB bufio.Writer in front of the ResponseWriter, and
// every 1000 records the writer is flushed and the response with it
// (http.Flusher): one chunk per batch of 1000, as the reference sends. The
// encoder's HTML escaping is off, so that a name is escaped as the reference
// escapes it (Go still escapes U+2028 and U+2029).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

const (
	maxRecords   = 10_000_000
	batchRecords = 1000
)

type record struct {
	ID    uint64 `json:"id"`
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

// makeRecord is task15::make_record.
func makeRecord(i uint64) record {
	r := record{ID: i}
	switch {
	case i%1000 == 500:
		r.Value = math.MinInt64
	case i%1000 == 501:
		r.Value = math.MaxInt64
	default:
		r.Value = int64((i*2654435761)%2000001) - 1000000
	}
	prefix := "record-"
	switch i % 16 {
	case 5:
		prefix = "say \"hi\" to #"
	case 9:
		prefix = `C:\records\`
	case 13:
		prefix = "tab\there\nnewline\r\b\f\x01\x1f\x7f #"
	case 3:
		if i%32 == 3 {
			prefix = "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80 #"
		} else {
			prefix = "</script><b>&amp;</b> #"
		}
	}
	r.Name = prefix + strconv.FormatUint(i, 10)
	return r
}

func answer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func badParameter(w http.ResponseWriter, parameter, message string) {
	answer(w, http.StatusBadRequest, map[string]string{"error": message, "parameter": parameter})
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func records(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/records" {
		answer(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		answer(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	q := r.URL.Query()
	if !q.Has("n") {
		badParameter(w, "n", "n is missing: ask for /records?n=<how many>")
		return
	}
	text := q.Get("n")
	n, err := strconv.ParseUint(text, 10, 64)
	if !isDigits(text) || err != nil || n > maxRecords {
		badParameter(w, "n", fmt.Sprintf("n must be a whole number from 0 to %d in decimal digits, not %q", maxRecords, text))
		return
	}
	ndjson := false
	if q.Has("format") {
		switch f := q.Get("format"); f {
		case "json":
		case "ndjson":
			ndjson = true
		default:
			badParameter(w, "format", fmt.Sprintf("format must be json or ndjson, not %q", f))
			return
		}
	}

	if ndjson {
		w.Header().Set("Content-Type", "application/x-ndjson")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	flusher, _ := w.(http.Flusher)
	out := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	flush := func() bool {
		if out.Flush() != nil {
			return false // the client has gone: stop producing
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if !ndjson {
		out.WriteString("[")
	}
	for i := uint64(0); i < n; i++ {
		if !ndjson && i > 0 {
			out.WriteString(",")
		}
		if enc.Encode(makeRecord(i)) != nil {
			return
		}
		if (i+1)%batchRecords == 0 && !flush() {
			return
		}
		if r.Context().Err() != nil {
			return
		}
	}
	if !ndjson {
		out.WriteString("]\n")
	}
	flush()
}

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0: any)")
	flag.Parse()

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(records),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// No WriteTimeout: it would bound the whole stream. (Go 1.20's
		// ResponseController.SetWriteDeadline would give a deadline per
		// flush, the reference's stall_timeout; Debian 12 has Go 1.19.)
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
