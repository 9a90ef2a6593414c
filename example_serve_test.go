package blobber_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/blobber-dev/blobber"
)

// Serve an artifact's files over HTTP from a Go program: Image.Handler is
// an http.Handler that fetches a file's chunks only when it is requested.
// Mount it under a prefix with http.StripPrefix, next to the program's
// own handlers. (Client.Follow serves what a tag names and switches when
// the tag moves.)
func ExampleImage_Handler() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "blobber-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ref := filepath.Join(dir, "layout") + ":v1"
	c, err := blobber.NewClient(blobber.WithOCILayout())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Push(ctx, ref, site); err != nil {
		log.Fatal(err)
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		log.Fatal(err)
	}
	defer img.Close()

	mux := http.NewServeMux()
	mux.Handle("/site/", http.StripPrefix("/site", img.Handler(blobber.WithoutListing())))
	srv := httptest.NewServer(mux) // a real program: http.ListenAndServe("127.0.0.1:8080", mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/site/docs/hello.txt")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	fmt.Print(string(body))
	// Output:
	// 200 OK text/plain; charset=utf-8
	// hello, world
}
