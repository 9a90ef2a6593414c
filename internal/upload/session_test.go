package upload

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// A reserved session takes a stream, which then owns it; one that takes
// none is cancelled by Release.
func TestSessionStreamOrRelease(t *testing.T) {
	proxy := startProxy(t)
	repoURL := proxy.URL() + "/v2/session/blob"
	ctx := context.Background()

	s, err := Reserve(ctx, http.DefaultClient, repoURL)
	if err != nil {
		t.Fatal(err)
	}
	tail := newTail(t)
	stream, err := s.Stream(ctx, tail, 256<<10, retryPolicy(0))
	if err != nil {
		t.Fatal(err)
	}
	s.Release() // the stream owns the session: nothing to cancel
	data, desc := randomBlob(600 << 10)
	tail.Write(data)
	tail.Close(nil)
	if err := stream.Finish(desc); err != nil {
		t.Fatal(err)
	}
	if got := blobStatus(t, repoURL, desc.Digest); got != http.StatusOK {
		t.Errorf("HEAD of the streamed blob: %d", got)
	}
	if st := proxy.Stats(); st.UploadRequests != 1+3+1 {
		t.Errorf("%d upload requests, want the POST, 3 PATCHes and the PUT", st.UploadRequests)
	}
	if _, err := s.Stream(ctx, tail, 256<<10, retryPolicy(0)); err == nil {
		t.Error("a session took a second stream")
	}

	unused, err := Reserve(ctx, http.DefaultClient, repoURL)
	if err != nil {
		t.Fatal(err)
	}
	unused.Release()
	unused.Release()
	resp, err := http.Get(unused.loc)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the released session answers %d, want 404", resp.StatusCode)
	}
}

// A registry's refusal is an errcode.ErrorResponse, as oras-go gives.
func TestReserveRefused(t *testing.T) {
	reg := registrytest.Start(t, registrytest.WithBasicAuth(map[string]string{"alice": "pw"}))
	_, err := Reserve(context.Background(), http.DefaultClient, reg.URL()+"/v2/session/refused")
	var resp *errcode.ErrorResponse
	if !errors.As(err, &resp) || resp.StatusCode != http.StatusUnauthorized || resp.Method != http.MethodPost {
		t.Fatalf("Reserve without credentials: %v", err)
	}
}
