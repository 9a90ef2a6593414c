package registrytest

import (
	"bytes"
	"context"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// memDriverName names Distribution's inmemory driver with buffered writers.
//
// The stock inmemory FileWriter grows its buffer by exactly len(p) on every
// Write, so a monolithic upload of n bytes costs O(n²) copying: a test
// that pushes a blob of tens of MiB spent most of its time copying, more
// so under -race (BENCHMARKS.md). Buffering writes in a
// bytes.Buffer, which grows geometrically, and handing them to the stock
// writer in one Write on Close/Commit makes uploads linear.
const memDriverName = "registrytest-inmemory"

func init() {
	factory.Register(memDriverName, memDriverFactory{})
}

type memDriverFactory struct{}

func (memDriverFactory) Create(context.Context, map[string]any) (storagedriver.StorageDriver, error) {
	return memDriver{inmemory.New()}, nil
}

type memDriver struct {
	storagedriver.StorageDriver
}

func (d memDriver) Writer(ctx context.Context, path string, append bool) (storagedriver.FileWriter, error) {
	w, err := d.StorageDriver.Writer(ctx, path, append)
	if err != nil {
		return nil, err
	}
	return &bufferedWriter{FileWriter: w}, nil
}

// bufferedWriter holds writes until Close or Commit. Like the stock writer,
// nothing written becomes visible to readers before then.
type bufferedWriter struct {
	storagedriver.FileWriter
	buf bytes.Buffer
}

func (w *bufferedWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *bufferedWriter) Size() int64 { return w.FileWriter.Size() + int64(w.buf.Len()) }

func (w *bufferedWriter) flush() error {
	if w.buf.Len() == 0 {
		return nil
	}
	_, err := w.FileWriter.Write(w.buf.Bytes())
	w.buf = bytes.Buffer{} // release the memory; the stock writer has a copy
	return err
}

func (w *bufferedWriter) Close() error {
	if err := w.flush(); err != nil {
		_ = w.FileWriter.Close()
		return err
	}
	return w.FileWriter.Close()
}

func (w *bufferedWriter) Commit(ctx context.Context) error {
	if err := w.flush(); err != nil {
		return err
	}
	return w.FileWriter.Commit(ctx)
}

func (w *bufferedWriter) Cancel(ctx context.Context) error {
	w.buf = bytes.Buffer{}
	return w.FileWriter.Cancel(ctx)
}
