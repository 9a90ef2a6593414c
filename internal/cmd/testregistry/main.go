// Command testregistry runs a throwaway CNCF Distribution registry in
// memory on 127.0.0.1, for the demo and for trying blobber by hand. It
// prints the registry's address and serves until interrupted. With -dir it
// stores blobs there instead, with the filesystem driver, as the benchmark's
// registry does; with -proxy it prints the address of a counting proxy in
// front of it, as the benchmark measures through, and the proxy's counts
// when it stops.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

func main() {
	dir := flag.String("dir", "", "store blobs in this directory (filesystem driver) instead of memory")
	withProxy := flag.Bool("proxy", false, "serve through a counting proxy, as the benchmark does, and print its counts at the end")
	flag.Parse()
	var opts []registrytest.Option
	if *dir != "" {
		opts = append(opts, registrytest.WithFilesystem(*dir))
	}
	reg, err := registrytest.StartServer(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testregistry:", err)
		os.Exit(1)
	}
	defer reg.Close()
	host := reg.Host()
	var proxy *registrytest.Proxy
	if *withProxy {
		if proxy, err = registrytest.NewCountingProxy(reg.URL()); err != nil {
			fmt.Fprintln(os.Stderr, "testregistry:", err)
			os.Exit(1)
		}
		defer proxy.Close()
		host = proxy.Host()
	}
	// Catch the signals before the address is out: whoever reads it may
	// stop the command at once, and must still get the counts.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Println(host)
	<-ctx.Done()
	if proxy != nil {
		fmt.Fprintf(os.Stderr, "%+v\n", proxy.Stats())
	}
}
