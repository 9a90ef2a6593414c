// Command blobber pushes directories to OCI registries as eStargz
// artifacts and lists, reads and pulls them back.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := newRootCmd()
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	return reportError(cmd.ErrOrStderr(), err)
}
