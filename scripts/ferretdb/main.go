// Command ferretdb runs FerretDB v1 embedded, with the SQLite backend, on a loopback
// address, for the tests and benchmarks of batchwriter-threads. It is built through our own
// main package because FerretDB's cmd/ferretdb panics when built from the module zip (the
// zip lacks its generated version file). The embedded package keeps telemetry off.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (loopback only)")
	dataDir := flag.String("data-dir", "", "directory for the SQLite databases (required)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn, error")
	exitWithParent := flag.Bool("exit-with-parent", false, "exit when the process that started us is gone")
	flag.Parse()

	if *dataDir == "" {
		fatal("--data-dir is required")
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		fatal("bad --listen: " + err.Error())
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fatal("--listen must be a loopback address, got " + host)
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		fatal(err.Error())
	}
	if err = os.MkdirAll(abs, 0o700); err != nil {
		fatal(err.Error())
	}

	var level slog.Level
	if err = level.UnmarshalText([]byte(*logLevel)); err != nil {
		fatal("bad --log-level: " + err.Error())
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fatal(err.Error())
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if *exitWithParent {
		// A test run that dies by SIGKILL cannot stop us: notice the orphaning and stop.
		go watchParent(stop)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()

	// The launcher waits for this line before it hands the URI to anyone.
	fmt.Println("ready " + f.MongoDBURI())
	<-done
}

func watchParent(stop context.CancelFunc) {
	parent := os.Getppid()
	for range time.Tick(250 * time.Millisecond) {
		if os.Getppid() != parent {
			stop()
			return
		}
	}
}

func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "ferretdb: "+msg)
	os.Exit(2)
}
