// Command testregistry runs a throwaway CNCF Distribution registry in
// memory on 127.0.0.1, for the demo and for trying blobber by hand. It
// prints the registry's address and serves until interrupted.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

func main() {
	reg, err := registrytest.StartServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testregistry:", err)
		os.Exit(1)
	}
	defer reg.Close()
	fmt.Println(reg.Host())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}
